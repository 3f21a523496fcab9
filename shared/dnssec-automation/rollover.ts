import type { DsRecord } from '../dns/dnskey.ts'
import type { ChildKey } from '../dns/scan-zone.ts'

/**
 * The parent side of a key rollover, decided from one good scan (pure): a new DS is added only
 * for a key every child server serves with the SEP flag; an old DS is removed only once the new
 * set is published by the parent and the parent's DS TTL has passed since (RFC 6781 §4.1.2,
 * RFC 7583). Each wait says why.
 */

export const ROLLOVER_PHASES = [
  'idle',
  'adding',
  'awaiting-publication',
  'awaiting-ttl',
  'removing',
] as const
export type RolloverPhase = (typeof ROLLOVER_PHASES)[number]

export interface RolloverInput {
  /** What the CDS/CDNSKEY say the DS set should be (already validated). */
  readonly desired: readonly DsRecord[]
  readonly keys: readonly ChildKey[]
  readonly registry: readonly DsRecord[]
  /** What the parent zone's servers serve for the child now, and its TTL. */
  readonly parent: { readonly records: readonly DsRecord[]; readonly ttlSeconds: number }
  /** When the parent was first seen serving the desired set (kept by the caller). */
  readonly publishedSince?: number | undefined
  readonly now: number
}

export type RolloverDecision =
  | { readonly kind: 'in-sync' }
  | {
      readonly kind: 'apply'
      readonly records: readonly DsRecord[]
      readonly phase: 'adding' | 'removing'
    }
  | {
      readonly kind: 'wait'
      readonly phase: RolloverPhase
      readonly reason: string
      readonly publishedSince?: number
    }
  | { readonly kind: 'refuse'; readonly reason: string }

const key = (ds: DsRecord) =>
  `${ds.keyTag}/${ds.algorithm}/${ds.digestType}/${ds.digest.toLowerCase()}`

const contains = (set: readonly DsRecord[], records: readonly DsRecord[]) => {
  const keys = new Set(set.map(key))
  return records.every((record) => keys.has(key(record)))
}

export function decideRollover(input: RolloverInput): RolloverDecision {
  const registryKeys = new Set(input.registry.map(key))
  const desiredKeys = new Set(input.desired.map(key))
  const toAdd = input.desired.filter((ds) => !registryKeys.has(key(ds)))
  const toRemove = input.registry.filter((ds) => !desiredKeys.has(key(ds)))

  if (toAdd.length > 0) {
    // Never a DS for a key the zone does not serve as a KSK on every server (the scan made sure
    // all servers agree): a validator seeing it would find no matching key.
    const missing = toAdd.find(
      (ds) =>
        !input.keys.some(
          (child) => child.keyTag === ds.keyTag && child.algorithm === ds.algorithm && child.sep,
        ),
    )
    if (missing) {
      return {
        kind: 'refuse',
        reason: `the CDS names key ${missing.keyTag} (algorithm ${missing.algorithm}), which the zone does not serve with the SEP flag`,
      }
    }
    return { kind: 'apply', records: [...input.registry, ...toAdd], phase: 'adding' }
  }

  const published = contains(input.parent.records, input.desired)
  if (!published) {
    return {
      kind: 'wait',
      phase: 'awaiting-publication',
      reason: 'the registry holds the new DS; the parent zone does not serve it yet',
    }
  }
  const since = input.publishedSince ?? input.now
  if (toRemove.length > 0) {
    const ready = since + input.parent.ttlSeconds * 1000
    if (input.now < ready) {
      return {
        kind: 'wait',
        phase: 'awaiting-ttl',
        reason: `the parent serves the new DS; the old one is removed after its TTL (${input.parent.ttlSeconds} s), at ${new Date(ready).toISOString()}`,
        publishedSince: since,
      }
    }
    return { kind: 'apply', records: input.desired, phase: 'removing' }
  }
  // The registry holds exactly the desired set; done once the parent shows nothing else.
  if (!contains(input.desired, input.parent.records)) {
    return {
      kind: 'wait',
      phase: 'awaiting-publication',
      reason: 'the parent zone still serves a DS the registry no longer holds',
      publishedSince: since,
    }
  }
  return { kind: 'in-sync' }
}
