import { type ChainResult, isAtOrBelow } from './chain-of-trust.ts'
import { nameToWire } from './dnskey.ts'
import { canonicalName, rdataSet } from './dnssec-records.ts'

/**
 * Authenticated bootstrapping (RFC 9615): the DNS operator publishes a copy of the child's CDS
 * and CDNSKEY at `_dsboot.<child>._signal.<name server>` for each of the child's name servers,
 * in its own signed zone. The first DS is accepted at once when every name server has such a
 * signal, each authenticated by a chain of trust, and each equal to the RRsets at the child's
 * apex. A signal that validates but differs is a contradiction (stop); a missing or
 * unauthenticated one only means "no signal" (the repeated-scan fallback may still apply).
 */

export type SignalOutcome =
  | { readonly ok: true; readonly names: readonly string[] }
  | {
      readonly ok: false
      /** An authenticated signal says something else than the child: never bootstrap from it. */
      readonly contradicts: boolean
      readonly reason: string
    }

/** The signal name for a child and one of its name servers; undefined when none can exist. */
export function signalName(child: string, nameServer: string): string | undefined {
  const zone = canonicalName(child)
  const host = canonicalName(nameServer)
  // A name server inside the child cannot carry its signal (RFC 9615 §4.1): it is the child.
  if (isAtOrBelow(host, zone)) return undefined
  const name = `_dsboot.${zone}._signal.${host}`
  return nameToWire(name).length <= 255 ? name : undefined
}

export interface ApexSignals {
  /** The child's CDS and CDNSKEY RRsets, sorted hex RDATA (empty: not published). */
  readonly cds: readonly string[]
  readonly cdnskey: readonly string[]
}

/** What the signal check needs of a validator (`ChainValidator`). */
export interface SignalValidator {
  validated(name: string, type: 'CDS' | 'CDNSKEY'): Promise<ChainResult>
}

export async function checkBootstrapSignals(
  chain: SignalValidator,
  child: string,
  nameServers: readonly string[],
  apex: ApexSignals,
): Promise<SignalOutcome> {
  if (nameServers.length === 0) {
    return {
      ok: false,
      contradicts: false,
      reason: 'the parent names no name servers for the zone',
    }
  }
  const names: string[] = []
  for (const host of nameServers) {
    const name = signalName(child, host)
    if (!name) {
      return {
        ok: false,
        contradicts: false,
        reason: `no signal can exist for name server ${host} (inside the zone, or the name is too long)`,
      }
    }
    names.push(name)
  }
  for (const name of names) {
    for (const type of ['CDS', 'CDNSKEY'] as const) {
      const expected = type === 'CDS' ? apex.cds : apex.cdnskey
      const result = await chain.validated(name, type)
      if (!result.ok) {
        if (result.failure === 'missing' && expected.length === 0) continue
        return { ok: false, contradicts: false, reason: `${name}: ${result.reason}` }
      }
      const found = rdataSet(result.records)
      if (found.join(',') !== expected.join(',')) {
        return {
          ok: false,
          contradicts: true,
          reason: `the ${type} signal at ${name} (authenticated by ${result.zone}) differs from the ${type} the zone publishes`,
        }
      }
    }
  }
  return { ok: true, names }
}
