import { Resolver } from 'node:dns/promises'
import { type AddressPolicy, checkAddress } from '../webhooks/address-policy.ts'
import type { DnsServer } from './dns-client.ts'

/** The lookups the scanner needs (the system resolver, or a fake in tests). */
export interface NameResolver {
  resolveNs(name: string): Promise<string[]>
  resolve4(name: string): Promise<string[]>
  resolve6(name: string): Promise<string[]>
}

function systemResolver(): NameResolver {
  const resolver = new Resolver({ timeout: 3_000, tries: 2 })
  return {
    resolveNs: (name) => resolver.resolveNs(name),
    resolve4: (name) => resolver.resolve4(name),
    resolve6: (name) => resolver.resolve6(name),
  }
}

/**
 * A resolver that finds nothing: with `DNS_LOOKUP=overrides` only the servers
 * `DNS_SERVER_OVERRIDES` names are asked (tests, a closed lab, `npm start`).
 */
export const OVERRIDES_ONLY: NameResolver = {
  resolveNs: (name) =>
    Promise.reject(new Error(`${name} is not in DNS_SERVER_OVERRIDES (DNS_LOOKUP=overrides)`)),
  resolve4: () => Promise.resolve([]),
  resolve6: () => Promise.resolve([]),
}

/** A zone's servers could not be found, or none may be asked. */
export class NameServerLookupError extends Error {
  override name = 'NameServerLookupError'
}

/** A server found by name: the name server's host name (or the zone, for an override). */
export interface NamedServer extends DnsServer {
  readonly name: string
}

interface LookupOptions {
  /**
   * `DNS_SERVER_OVERRIDES`: a zone or a name server's host name → `host:port` entries to ask
   * instead of looking them up (local servers, tests, the emulator's parent zone).
   */
  readonly overrides: Readonly<Record<string, readonly string[]>>
  readonly policy: AddressPolicy
  readonly resolver?: NameResolver
}

const canonical = (name: string) => name.toLowerCase().replace(/\.$/, '')

/**
 * The name servers a name-server change delegates a domain to: those it names, or with
 * `aliyunDns` Alibaba Cloud DNS's own (`ALIBABA_DNS_NAME_SERVERS`).
 */
export const delegatedTo = (
  change: { readonly aliyunDns: boolean; readonly nameServers: readonly string[] },
  alibabaDnsServers: readonly string[],
): string[] => (change.aliyunDns ? alibabaDnsServers : change.nameServers).map(canonical)

function overridden(name: string, entries: readonly string[]): NamedServer[] {
  return entries.map((entry) => {
    const at = entry.lastIndexOf(':')
    return {
      name,
      host: entry.slice(0, at).replace(/^\[|\]$/g, ''),
      port: Number(entry.slice(at + 1)),
    }
  })
}

/** Every address of a name server that the address policy lets the gateway ask (port 53). */
async function addressesOf(
  host: string,
  resolver: NameResolver,
  policy: AddressPolicy,
  refused: string[],
): Promise<NamedServer[]> {
  const addresses = [
    ...(await resolver.resolve4(host).catch(() => [] as string[])),
    ...(await resolver.resolve6(host).catch(() => [] as string[])),
  ]
  if (addresses.length === 0) {
    refused.push(
      resolver === OVERRIDES_ONLY
        ? `${host} is not in DNS_SERVER_OVERRIDES (DNS_LOOKUP=overrides)`
        : `${host} does not resolve`,
    )
  }
  const servers: NamedServer[] = []
  for (const address of addresses) {
    const verdict = checkAddress(address, policy)
    if (verdict.allowed) servers.push({ name: host, host: address, port: 53 })
    else refused.push(`${host} ${verdict.reason}`)
  }
  return servers
}

/**
 * The servers to ask for a zone: those `DNS_SERVER_OVERRIDES` names for it (local servers, tests,
 * the emulator's parent zone — not for production), or else its NS set, each name resolved (or
 * overridden by host name), and every address put through the same address policy as callbacks
 * (no private ranges, no loopback, no metadata addresses unless allowed).
 */
export function serverLookup(options: LookupOptions): (zone: string) => Promise<NamedServer[]> {
  const resolver: NameResolver = options.resolver ?? systemResolver()
  const hosts = hostLookup({ ...options, resolver })
  return async (zone) => {
    const name = canonical(zone)
    const override = options.overrides[name]
    if (override) return overridden(name, override)
    const names = await resolver.resolveNs(name || '.').catch((error: Error) => {
      throw new NameServerLookupError(`the NS set of ${name} could not be found: ${error.message}`)
    })
    const found = await hosts(names)
    if (found.servers.length === 0) {
      throw new NameServerLookupError(
        `no server of ${name} may be asked${found.problems.length > 0 ? `: ${found.problems.join('; ')}` : ''}`,
      )
    }
    return found.servers
  }
}

/**
 * The addresses of name servers given by host name (a name-server change's new servers): each
 * host's `DNS_SERVER_OVERRIDES` entry, or its A and AAAA addresses under the address policy;
 * `problems` says which hosts gave none.
 */
export function hostLookup(
  options: LookupOptions,
): (hosts: readonly string[]) => Promise<{ servers: NamedServer[]; problems: string[] }> {
  const resolver: NameResolver = options.resolver ?? systemResolver()
  return async (hosts) => {
    const servers: NamedServer[] = []
    const problems: string[] = []
    for (const host of hosts.map(canonical)) {
      const override = options.overrides[host]
      if (override) servers.push(...overridden(host, override))
      else servers.push(...(await addressesOf(host, resolver, options.policy, problems)))
    }
    return { servers, problems }
  }
}
