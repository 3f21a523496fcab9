import type { DnsAnswer, DnsServer } from './dns-client.ts'
import { type Dnskey, type DsRecord, dnskeyRdata } from './dnskey.ts'
import {
  CDNSKEY,
  CDS,
  canonicalName,
  DNSKEY,
  DS,
  dnskeyOf,
  dsKey,
  dsOf,
  dsRdataOf,
  keysMatchingDs,
  rawOf,
  signedByOneOf,
  signersOf,
} from './dnssec-records.ts'

/**
 * A small validator for one question: CDS or CDNSKEY at a name, authenticated by a chain of
 * trust from a configured anchor (the root's KSKs by default) down through every zone cut — the
 * DNSKEY RRset of each zone signed by a key its parent's DS names, each DS RRset signed by the
 * zone above (RFC 4035 §5). The servers of each zone on the way are found as a scanned zone's
 * are (`serversFor`: overrides, or the NS set under the address policy). Absence is not proven
 * (NSEC is not checked): a missing answer only means "no signal", never a secure "yes".
 */

export interface TrustAnchor {
  /** The anchor's zone, canonical ('' for the root). */
  readonly zone: string
  readonly ds: DsRecord
}

export type ChainQuery = (
  server: DnsServer,
  name: string,
  type: 'DNSKEY' | 'DS' | 'CDS' | 'CDNSKEY',
) => Promise<DnsAnswer>

export interface ChainDeps {
  readonly anchors: readonly TrustAnchor[]
  readonly serversFor: (zone: string) => Promise<DnsServer[]>
  readonly query: ChainQuery
  readonly nowSeconds: number
}

/** Why a chain could not be built: nothing there, an unsigned cut, a bad signature, no answer. */
export type ChainFailure = 'missing' | 'insecure' | 'bogus' | 'unreachable'

export type ChainResult =
  | {
      readonly ok: true
      /** The RRset's RDATA as served. */
      readonly records: readonly Buffer[]
      /** The zone whose key signed it. */
      readonly zone: string
    }
  | { readonly ok: false; readonly failure: ChainFailure; readonly reason: string }

class ChainError extends Error {
  constructor(
    readonly failure: ChainFailure,
    message: string,
  ) {
    super(message)
  }
}

/** Whether `name` is `zone` or below it. */
export const isAtOrBelow = (name: string, zone: string) =>
  zone === '' || name === zone || name.endsWith(`.${zone}`)

const shown = (zone: string) => (zone === '' ? 'the root' : zone)

/** The names between `zone` (exclusive) and `name` (inclusive), from the top down. */
function namesBetween(zone: string, name: string): string[] {
  const labels = name.split('.')
  const depth = zone === '' ? 0 : zone.split('.').length
  const names: string[] = []
  for (let count = depth + 1; count <= labels.length; count++) {
    names.push(labels.slice(labels.length - count).join('.'))
  }
  return names
}

const TYPE_NUMBER = { CDS, CDNSKEY } as const
const MAX_CUTS = 16

export class ChainValidator {
  readonly #keys = new Map<string, Promise<readonly Dnskey[]>>()

  constructor(private readonly deps: ChainDeps) {}

  /** The CDS or CDNSKEY RRset at `name`, if a chain of trust from an anchor authenticates it. */
  async validated(name: string, type: 'CDS' | 'CDNSKEY'): Promise<ChainResult> {
    try {
      return await this.#walk(canonicalName(name), type)
    } catch (error) {
      if (error instanceof ChainError) {
        return { ok: false, failure: error.failure, reason: error.message }
      }
      // The servers of a zone on the way could not be found or may not be asked.
      return { ok: false, failure: 'unreachable', reason: (error as Error).message }
    }
  }

  async #walk(name: string, type: 'CDS' | 'CDNSKEY'): Promise<ChainResult> {
    const anchors = this.deps.anchors.filter((anchor) => isAtOrBelow(name, anchor.zone))
    const top = anchors
      .map((anchor) => anchor.zone)
      .sort((a, b) => b.length - a.length)
      .at(0)
    if (top === undefined) throw new ChainError('insecure', `no trust anchor covers ${name}`)
    let zone = top
    let keys = await this.#zoneKeys(
      zone,
      anchors.filter((anchor) => anchor.zone === top).map((anchor) => anchor.ds),
    )
    for (let cuts = 0; cuts < MAX_CUTS; cuts++) {
      const answer = await this.#ask(zone, name, type)
      if (answer.records.length > 0) {
        const rdatas = answer.records.map(rawOf)
        const signers = signersOf(answer.signatures)
        if (signers.includes(zone)) {
          const wire = rdatas.map((rdata) => ({ name, type: TYPE_NUMBER[type], rdata }))
          const by = signedByOneOf(
            zone,
            TYPE_NUMBER[type],
            wire,
            answer.signatures,
            keys,
            this.deps.nowSeconds,
          )
          if (by === undefined) {
            throw new ChainError(
              'bogus',
              `the ${type} RRset at ${name} is not validly signed by a key of ${shown(zone)}`,
            )
          }
          return { ok: true, records: rdatas, zone }
        }
        // Served by a zone below this one on the same servers: find the cut to it.
        const below = signers.find(
          (signer) => signer !== zone && isAtOrBelow(signer, zone) && isAtOrBelow(name, signer),
        )
        if (below === undefined) {
          throw new ChainError('bogus', `the ${type} RRset at ${name} is unsigned`)
        }
        const cut = await this.#cutTowards(zone, keys, below)
        zone = cut.zone
        keys = await this.#zoneKeys(cut.zone, cut.ds)
        continue
      }
      const referral = answer.referral
      if (
        referral &&
        referral.zone !== zone &&
        isAtOrBelow(referral.zone, zone) &&
        isAtOrBelow(name, referral.zone)
      ) {
        const ds = await this.#delegation(zone, keys, referral.zone)
        if (!ds) {
          throw new ChainError(
            'insecure',
            `${referral.zone} is delegated from ${shown(zone)} without a DS: nothing below it is authenticated`,
          )
        }
        zone = referral.zone
        keys = await this.#zoneKeys(zone, ds)
        continue
      }
      if (answer.rcode === 'NXDOMAIN' || answer.rcode === 'NOERROR') {
        throw new ChainError('missing', `${shown(zone)} has no ${type} at ${name}`)
      }
      throw new ChainError('unreachable', `${shown(zone)} answered ${answer.rcode} for ${name}`)
    }
    throw new ChainError('bogus', `more than ${MAX_CUTS} zone cuts above ${name}`)
  }

  async #ask(
    zone: string,
    name: string,
    type: 'DNSKEY' | 'DS' | 'CDS' | 'CDNSKEY',
  ): Promise<DnsAnswer> {
    const servers = await this.deps.serversFor(zone)
    const errors: string[] = []
    for (const server of servers) {
      try {
        return await this.deps.query(server, name, type)
      } catch (error) {
        errors.push((error as Error).message)
      }
    }
    throw new ChainError(
      'unreachable',
      `no server of ${shown(zone)} answered for ${name} ${type}: ${errors.join('; ') || 'none listed'}`,
    )
  }

  /** A zone's DNSKEY set, once its self-signature verifies with a key one of its DS names. */
  #zoneKeys(zone: string, ds: readonly DsRecord[]): Promise<readonly Dnskey[]> {
    const cacheKey = `${zone}|${ds.map(dsKey).sort().join(',')}`
    let keys = this.#keys.get(cacheKey)
    if (!keys) {
      keys = this.#fetchZoneKeys(zone, ds)
      this.#keys.set(cacheKey, keys)
    }
    return keys
  }

  async #fetchZoneKeys(zone: string, ds: readonly DsRecord[]): Promise<readonly Dnskey[]> {
    const answer = await this.#ask(zone, zone, 'DNSKEY')
    const keys = answer.records.map(dnskeyOf)
    const entry = keysMatchingDs(zone, keys, ds)
    if (entry.length === 0) {
      throw new ChainError('bogus', `no DNSKEY of ${shown(zone)} matches the DS that leads to it`)
    }
    const wire = keys.map((key) => ({ name: zone, type: DNSKEY, rdata: dnskeyRdata(key) }))
    if (
      signedByOneOf(zone, DNSKEY, wire, answer.signatures, entry, this.deps.nowSeconds) ===
      undefined
    ) {
      throw new ChainError(
        'bogus',
        `the DNSKEY RRset of ${shown(zone)} is not validly signed by a key its DS names`,
      )
    }
    return keys
  }

  /** The DS set `zone` holds for `child`, authenticated; undefined when it holds none. */
  async #delegation(
    zone: string,
    keys: readonly Dnskey[],
    child: string,
  ): Promise<DsRecord[] | undefined> {
    const answer = await this.#ask(zone, child, 'DS')
    if (answer.records.length === 0) return undefined
    const records = answer.records.map(dsOf)
    const wire = records.map((ds) => ({ name: child, type: DS, rdata: dsRdataOf(ds) }))
    if (
      signedByOneOf(zone, DS, wire, answer.signatures, keys, this.deps.nowSeconds) === undefined
    ) {
      throw new ChainError(
        'bogus',
        `the DS RRset of ${child} is not validly signed by a key of ${shown(zone)}`,
      )
    }
    return records
  }

  /** The first secure cut below `zone` on the way to `below` (a zone served on the same servers). */
  async #cutTowards(
    zone: string,
    keys: readonly Dnskey[],
    below: string,
  ): Promise<{ zone: string; ds: DsRecord[] }> {
    for (const candidate of namesBetween(zone, below)) {
      const ds = await this.#delegation(zone, keys, candidate)
      if (ds) return { zone: candidate, ds }
    }
    throw new ChainError(
      'insecure',
      `${below} signs the answer but ${shown(zone)} holds no DS on the way to it`,
    )
  }
}
