import type { DnsAnswer, DnsServer } from '../dns/dns-client.ts'
import type { DsRecord } from '../dns/dnskey.ts'
import type { NamedServer } from '../dns/name-servers.ts'
import type { ChangeSafety, DomainSafety, ServerEvidence } from '../tasks/change-safety.ts'
import { judgeAnswer, judgeChange, judgeDomain } from './safety.ts'

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
}

/** Domains of one batch checked at once. */
const DOMAINS_AT_ONCE = 8

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
  /** The DS set the registry will hold after the change (read while the servers are asked). */
  readonly dsAfter: () => Promise<readonly DsRecord[]>
  /** `zone`: the zone's own servers; otherwise the name servers the change moves it to. */
  readonly servers: 'zone' | { readonly hosts: readonly string[] }
}

/** What one address answered over each transport (or why it did not). */
interface AddressAnswers {
  readonly server: NamedServer
  readonly tcp: DnsAnswer | Error
  readonly udp: DnsAnswer | Error
}

/** The servers asked, or why none could be; `problems`: hosts that gave no address. */
type Asked =
  | { readonly answers: readonly AddressAnswers[]; readonly problems: readonly string[] }
  | { readonly lookupProblem: string }

/** Finds the servers and asks each address over TCP and UDP, all by the deadline. */
async function askServers(deps: PreflightDeps, target: PreflightTarget): Promise<Asked> {
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
    return { lookupProblem: (error as Error).message }
  }
  if (servers.length === 0) return { lookupProblem: problems.join('; ') || 'no name servers' }
  const ask = (server: NamedServer, tcp: boolean) =>
    deps
      .query(server, target.domain, 'DNSKEY', {
        tcp,
        timeoutMs: Math.max(1, Math.min(3_000, deadline - deps.now())),
      })
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
  const answers = await Promise.all(
    servers.map(async (server) => {
      const [tcp, udp] = await Promise.all([ask(server, true), ask(server, false)])
      return { server, tcp, udp }
    }),
  )
  return { answers, problems }
}

/** `askServers`, or no servers at all once the deadline has passed (a lookup that outlives it). */
function askBounded(deps: PreflightDeps, target: PreflightTarget): Promise<Asked> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<Asked>((resolve) => {
    timer = setTimeout(
      () => resolve({ lookupProblem: `no verdict within ${deps.settings.timeoutMs} ms` }),
      deps.settings.timeoutMs + 250,
    )
    timer.unref?.()
  })
  return Promise.race([askServers(deps, target), late]).finally(() => clearTimeout(timer))
}

/** One address's evidence: one entry when both transports' answers agree. */
function evidenceOf(
  domain: string,
  dsAfter: readonly DsRecord[],
  { server, tcp, udp }: AddressAnswers,
  nowSeconds: number,
): ServerEvidence[] {
  const address = server.host.includes(':')
    ? `[${server.host}]:${server.port}`
    : `${server.host}:${server.port}`
  const judged = (answer: DnsAnswer | Error, transport: 'tcp' | 'udp'): ServerEvidence => ({
    nameServer: server.name,
    address,
    transport,
    ...(answer instanceof Error
      ? { outcome: 'unanswered', keys: [], signed: false, problem: answer.message }
      : judgeAnswer(domain, dsAfter, answer, nowSeconds)),
  })
  const [overTcp, overUdp] = [judged(tcp, 'tcp'), judged(udp, 'udp')]
  const same =
    overTcp.outcome === overUdp.outcome &&
    overTcp.validatedBy === overUdp.validatedBy &&
    overTcp.signed === overUdp.signed &&
    overTcp.problem === overUdp.problem &&
    JSON.stringify(overTcp.keys) === JSON.stringify(overUdp.keys)
  return same ? [{ ...overTcp, transport: 'tcp+udp' }] : [overTcp, overUdp]
}

/**
 * One domain: the registry's DS set and the servers' answers, fetched at once (the check costs
 * the slower of the two, not their sum), then judged together.
 */
async function checkDomain(deps: PreflightDeps, target: PreflightTarget): Promise<DomainSafety> {
  const [dsAfter, asked] = await Promise.all([target.dsAfter(), askBounded(deps, target)])
  if (dsAfter.length === 0) return judgeDomain(target.domain, [], [])
  if ('lookupProblem' in asked) {
    return judgeDomain(target.domain, dsAfter, [], asked.lookupProblem)
  }
  const nowSeconds = Math.floor(deps.now() / 1000)
  const evidence = asked.answers.flatMap((answers) =>
    evidenceOf(target.domain, dsAfter, answers, nowSeconds),
  )
  const judged = judgeDomain(target.domain, dsAfter, evidence)
  // A host that resolves to nothing: the servers found may be fine, but one is not known.
  if (asked.problems.length > 0 && judged.verdict === 'safe') {
    return {
      ...judged,
      verdict: 'unverified',
      reason: `not every new name server of ${target.domain} could be asked: ${asked.problems.join('; ')}`,
    }
  }
  return judged
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
      results[index] = await checkDomain(deps, targets[index] as PreflightTarget)
    }
  }
  await Promise.all(Array.from({ length: Math.min(DOMAINS_AT_ONCE, targets.length) }, worker))
  return judgeChange(results, deps.now())
}
