import type { DnsAnswer, DnsServer } from '../dns/dns-client.ts'
import type { NamedServer } from '../dns/name-servers.ts'
import type { DsRecord } from '../dnssec.ts'
import {
  type ChangeSafety,
  type DomainSafety,
  judgeAnswer,
  judgeChange,
  judgeDomain,
  type ServerEvidence,
} from './safety.ts'

/**
 * The pre-flight check: for each domain a change touches, the DS set the registry will hold and
 * the servers that will answer for the zone — its own, or for a name-server change the new ones —
 * each address asked directly over TCP and over UDP for the apex DNSKEY RRset and its RRSIGs
 * (SWITCH, .se and CZ.NIC check a CDS the same way). Bounded in time: a domain without a verdict
 * by the deadline is `unverified`, never a hang.
 */

export interface PreflightSettings {
  /** How long one domain's check may take; past it the domain is `unverified`. */
  readonly timeoutMs: number
  /** What an `unverified` verdict does: refuse the change (409), or carry it out recording it. */
  readonly unverified: 'refuse' | 'proceed'
  /** The servers of Alibaba Cloud DNS, asked for a move to it (`aliyunDns: true`). */
  readonly alibabaDnsServers: readonly string[]
  /** Domains of one batch checked at once. */
  readonly concurrency: number
}

export const DEFAULT_PREFLIGHT_SETTINGS: PreflightSettings = {
  timeoutMs: 5_000,
  unverified: 'refuse',
  alibabaDnsServers: ['dns1.hichina.com', 'dns2.hichina.com'],
  concurrency: 8,
}

export interface PreflightDeps {
  /** The DS set the registry holds now. */
  readonly registryDs: (domain: string) => Promise<readonly DsRecord[]>
  /** A zone's servers: `DNS_SERVER_OVERRIDES`, or its NS set resolved under the address policy. */
  readonly serversOfZone: (zone: string) => Promise<readonly NamedServer[]>
  /** Name servers by host name (overrides first), and the hosts that gave no address. */
  readonly serversOfHosts: (
    hosts: readonly string[],
  ) => Promise<{ servers: readonly NamedServer[]; problems: readonly string[] }>
  readonly query: (
    server: DnsServer,
    name: string,
    type: 'DNSKEY' | 'CDS' | 'CDNSKEY',
    options: { readonly tcp: boolean; readonly timeoutMs: number },
  ) => Promise<DnsAnswer>
  readonly now: () => number
  readonly settings: PreflightSettings
}

/** One domain to check: the DS set after the change, and whose servers to ask. */
export interface PreflightTarget {
  readonly domain: string
  readonly dsAfter: readonly DsRecord[]
  /** `zone`: the zone's own servers; otherwise the name servers the change moves it to. */
  readonly servers: 'zone' | { readonly hosts: readonly string[] }
}

/** Asks one address over both transports; one piece of evidence when both answers agree. */
async function askAddress(
  deps: PreflightDeps,
  target: PreflightTarget,
  server: NamedServer,
  deadline: number,
): Promise<ServerEvidence[]> {
  const nowSeconds = Math.floor(deps.now() / 1000)
  const address = server.host.includes(':')
    ? `[${server.host}]:${server.port}`
    : `${server.host}:${server.port}`
  const ask = async (tcp: boolean): Promise<ServerEvidence> => {
    const transport = tcp ? 'tcp' : 'udp'
    const timeoutMs = Math.max(1, Math.min(3_000, deadline - deps.now()))
    try {
      const answer = await deps.query(server, target.domain, 'DNSKEY', { tcp, timeoutMs })
      const judged = judgeAnswer(target.domain, target.dsAfter, answer, nowSeconds)
      return { nameServer: server.name, address, transport, ...judged }
    } catch (error) {
      return {
        nameServer: server.name,
        address,
        transport,
        outcome: 'unanswered',
        keys: [],
        signed: false,
        problem: (error as Error).message,
      }
    }
  }
  const [tcp, udp] = await Promise.all([ask(true), ask(false)])
  const same =
    tcp.outcome === udp.outcome &&
    tcp.validatedBy === udp.validatedBy &&
    tcp.signed === udp.signed &&
    tcp.problem === udp.problem &&
    JSON.stringify(tcp.keys) === JSON.stringify(udp.keys)
  return same ? [{ ...tcp, transport: 'tcp+udp' }] : [tcp, udp]
}

async function checkDomain(deps: PreflightDeps, target: PreflightTarget): Promise<DomainSafety> {
  if (target.dsAfter.length === 0) return judgeDomain(target.domain, [], [])
  const deadline = deps.now() + deps.settings.timeoutMs
  let servers: readonly NamedServer[]
  let problems: readonly string[] = []
  try {
    if (target.servers === 'zone') {
      servers = await deps.serversOfZone(target.domain)
    } else {
      ;({ servers, problems } = await deps.serversOfHosts(target.servers.hosts))
    }
  } catch (error) {
    return judgeDomain(target.domain, target.dsAfter, [], (error as Error).message)
  }
  const evidence = (
    await Promise.all(servers.map((server) => askAddress(deps, target, server, deadline)))
  ).flat()
  const judged = judgeDomain(
    target.domain,
    target.dsAfter,
    evidence,
    servers.length === 0 ? problems.join('; ') || 'no name servers' : undefined,
  )
  // A host that resolves to nothing: the servers found may be fine, but one is not known.
  if (problems.length > 0 && judged.verdict === 'safe') {
    return {
      ...judged,
      verdict: 'unverified',
      reason: `not every new name server of ${target.domain} could be asked: ${problems.join('; ')}`,
    }
  }
  return judged
}

/** `checkDomain`, or `unverified` once the deadline has passed without a verdict. */
function checkBounded(deps: PreflightDeps, target: PreflightTarget): Promise<DomainSafety> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<DomainSafety>((resolve) => {
    // The queries carry the same deadline; this covers a name lookup that outlives it.
    timer = setTimeout(
      () =>
        resolve(
          judgeDomain(
            target.domain,
            target.dsAfter,
            [],
            `no verdict within ${deps.settings.timeoutMs} ms`,
          ),
        ),
      deps.settings.timeoutMs + 250,
    )
    timer.unref?.()
  })
  return Promise.race([checkDomain(deps, target), late]).finally(() => clearTimeout(timer))
}

/** The verdict for every target, a few domains at a time. */
export async function checkTargets(
  deps: PreflightDeps,
  targets: readonly PreflightTarget[],
): Promise<ChangeSafety> {
  const results: DomainSafety[] = new Array(targets.length)
  let next = 0
  const worker = async () => {
    while (next < targets.length) {
      const index = next++
      results[index] = await checkBounded(deps, targets[index] as PreflightTarget)
    }
  }
  await Promise.all(
    Array.from({ length: Math.min(deps.settings.concurrency, targets.length) }, worker),
  )
  return judgeChange(results, deps.now())
}
