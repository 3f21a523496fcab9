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

/** A zone's servers could not be found, or none may be asked. */
export class NameServerLookupError extends Error {
  override name = 'NameServerLookupError'
}

/**
 * The servers to ask for a zone: those `DNS_SERVER_OVERRIDES` names for it (local servers, tests,
 * the emulator's parent zone — not for production), or else its NS set, each name resolved, and
 * every address put through the same address policy as callbacks (no private ranges, no
 * loopback, no metadata addresses unless allowed).
 */
export function serverLookup(options: {
  readonly overrides: Readonly<Record<string, readonly string[]>>
  readonly policy: AddressPolicy
  readonly resolver?: NameResolver
}): (zone: string) => Promise<DnsServer[]> {
  const resolver: NameResolver = options.resolver ?? systemResolver()
  return async (zone) => {
    const name = zone.toLowerCase().replace(/\.$/, '')
    const override = options.overrides[name]
    if (override) {
      return override.map((entry) => {
        const at = entry.lastIndexOf(':')
        return {
          host: entry.slice(0, at).replace(/^\[|\]$/g, ''),
          port: Number(entry.slice(at + 1)),
        }
      })
    }
    const hosts = await resolver.resolveNs(name || '.').catch((error: Error) => {
      throw new NameServerLookupError(`the NS set of ${name} could not be found: ${error.message}`)
    })
    const servers: DnsServer[] = []
    const refused: string[] = []
    for (const host of hosts) {
      const addresses = [
        ...(await resolver.resolve4(host).catch(() => [] as string[])),
        ...(await resolver.resolve6(host).catch(() => [] as string[])),
      ]
      for (const address of addresses) {
        const verdict = checkAddress(address, options.policy)
        if (verdict.allowed) servers.push({ host: address, port: 53 })
        else refused.push(`${host} ${verdict.reason}`)
      }
    }
    if (servers.length === 0) {
      throw new NameServerLookupError(
        `no server of ${name} may be asked${refused.length > 0 ? `: ${refused.join('; ')}` : ''}`,
      )
    }
    return servers
  }
}
