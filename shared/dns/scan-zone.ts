import type { Answer } from 'dns-packet'
import { type DsRecord, dsFromDnskey, keyTagOf } from '../dnssec.ts'
import type { DnsAnswer, DnsServer } from './dns-client.ts'
import {
  CDNSKEY,
  CDS,
  cdnskeyOf,
  cdsOf,
  DNSKEY,
  dnskeyOf,
  dsKey,
  rawOf,
  dnskeyRdataOf as rdataOf,
  rdataSet,
  signedByOneOf,
} from './dnssec-records.ts'

/**
 * One scan of a child zone for CDS/CDNSKEY (RFC 7344, RFC 8078 §3): every authoritative server is
 * asked directly for DNSKEY, CDS and CDNSKEY; all must agree; the DNSKEY RRset must be signed by a
 * key whose DS the registry holds now, and the CDS/CDNSKEY RRsets by a key of that DNSKEY set.
 * Unsigned delegations (no DS at the registry) are accepted only when bootstrapping is allowed.
 */

export type Query = (
  server: DnsServer,
  name: string,
  type: 'DNSKEY' | 'CDS' | 'CDNSKEY',
) => Promise<DnsAnswer>

export interface ServerView {
  readonly server: string
  readonly dnskeys: readonly number[]
  readonly cds: readonly string[]
  readonly cdnskey: readonly number[]
  readonly error?: string | undefined
}

export interface ChildKey {
  readonly keyTag: number
  readonly algorithm: number
  readonly flags: number
  /** The Secure Entry Point flag (a KSK). */
  readonly sep: boolean
}

export type ScanOutcome =
  | {
      readonly ok: true
      readonly servers: readonly ServerView[]
      readonly keys: readonly ChildKey[]
      /** What the parent's DS set should be, from CDS (or CDNSKEY); `delete`: remove every DS. */
      readonly desired: readonly DsRecord[] | 'delete'
      /** The key of the current DS set that validated the DNSKEY RRset (absent when bootstrapping). */
      readonly trustedBy?: number | undefined
      /** The CDS and CDNSKEY RRsets as served (sorted hex RDATA), to compare with RFC 9615 signals. */
      readonly apex: { readonly cds: readonly string[]; readonly cdnskey: readonly string[] }
    }
  | {
      readonly ok: false
      readonly reason: string
      readonly servers: readonly ServerView[]
      readonly keys?: readonly ChildKey[] | undefined
    }

interface ServerAnswers {
  readonly view: ServerView
  readonly dnskey: DnsAnswer
  readonly cds: DnsAnswer
  readonly cdnskey: DnsAnswer
}

const setKey = (records: readonly Answer[], raw: (answer: Answer) => Buffer) =>
  records
    .map((record) => raw(record).toString('hex'))
    .sort()
    .join(',')

export async function scanZone(
  zone: string,
  servers: readonly DnsServer[],
  query: Query,
  registryDs: readonly DsRecord[],
  options: { readonly nowSeconds: number; readonly bootstrap: boolean },
): Promise<ScanOutcome> {
  if (servers.length === 0) return { ok: false, reason: 'no authoritative servers', servers: [] }
  const answers: ServerAnswers[] = []
  const views: ServerView[] = []
  for (const server of servers) {
    const label = `${server.host}:${server.port}`
    try {
      const [dnskey, cds, cdnskey] = await Promise.all([
        query(server, zone, 'DNSKEY'),
        query(server, zone, 'CDS'),
        query(server, zone, 'CDNSKEY'),
      ])
      const view: ServerView = {
        server: label,
        dnskeys: dnskey.records.map((record) => keyTagOf(dnskeyOf(record))).sort((a, b) => a - b),
        cds: cds.records.map((record) => dsKey(cdsOf(rawOf(record)))).sort(),
        cdnskey: cdnskey.records.map((record) => keyTagOf(cdnskeyOf(rawOf(record)))).sort(),
      }
      views.push(view)
      answers.push({ view, dnskey, cds, cdnskey })
    } catch (error) {
      views.push({
        server: label,
        dnskeys: [],
        cds: [],
        cdnskey: [],
        error: (error as Error).message,
      })
    }
  }
  if (answers.length < servers.length) {
    return { ok: false, reason: 'a server did not answer', servers: views }
  }
  const first = answers[0] as ServerAnswers
  const same = answers.every(
    (other) =>
      setKey(other.dnskey.records, (r) => rdataOf(dnskeyOf(r))) ===
        setKey(first.dnskey.records, (r) => rdataOf(dnskeyOf(r))) &&
      setKey(other.cds.records, rawOf) === setKey(first.cds.records, rawOf) &&
      setKey(other.cdnskey.records, rawOf) === setKey(first.cdnskey.records, rawOf),
  )
  if (!same) return { ok: false, reason: 'the servers disagree', servers: views }

  const keys = first.dnskey.records.map(dnskeyOf)
  const childKeys = keys.map((key) => ({
    keyTag: keyTagOf(key),
    algorithm: key.algorithm,
    flags: key.flags,
    sep: (key.flags & 1) === 1,
  }))
  const fail = (reason: string): ScanOutcome => ({
    ok: false,
    reason,
    servers: views,
    keys: childKeys,
  })
  const keyRecords = keys.map((key) => ({ name: zone, type: DNSKEY, rdata: rdataOf(key) }))
  let trustedBy: number | undefined
  if (registryDs.length > 0) {
    // The DNSKEY RRset must be signed by a key whose DS is in the registry's set now.
    const current = new Set(registryDs.map(dsKey))
    const anchors = keys.filter((key) =>
      registryDs.some(
        (ds) =>
          ds.keyTag === keyTagOf(key) &&
          [1, 2, 4].includes(ds.digestType) &&
          current.has(dsKey(dsFromDnskey(zone, key, ds.digestType))),
      ),
    )
    if (anchors.length === 0) return fail('no DNSKEY of the zone matches a DS the registry holds')
    trustedBy = signedByOneOf(
      zone,
      DNSKEY,
      keyRecords,
      first.dnskey.signatures,
      anchors,
      options.nowSeconds,
    )
    if (trustedBy === undefined) {
      return fail('the DNSKEY RRset is not validly signed by a key whose DS the registry holds')
    }
  } else if (!options.bootstrap) {
    return fail('the delegation is unsigned and bootstrapping is not enabled for this domain')
  } else if (
    signedByOneOf(zone, DNSKEY, keyRecords, first.dnskey.signatures, keys, options.nowSeconds) ===
    undefined
  ) {
    return fail('the DNSKEY RRset is not self-signed')
  }

  const cdsRecords = first.cds.records.map((record) => cdsOf(rawOf(record)))
  const cdnskeys = first.cdnskey.records.map((record) => cdnskeyOf(rawOf(record)))
  if (cdsRecords.length === 0 && cdnskeys.length === 0)
    return fail('the zone publishes no CDS or CDNSKEY')
  for (const [type, answer] of [
    [CDS, first.cds],
    [CDNSKEY, first.cdnskey],
  ] as const) {
    if (answer.records.length === 0) continue
    const records = answer.records.map((record) => ({ name: zone, type, rdata: rawOf(record) }))
    if (
      signedByOneOf(zone, type, records, answer.signatures, keys, options.nowSeconds) === undefined
    ) {
      return fail(
        `the ${type === CDS ? 'CDS' : 'CDNSKEY'} RRset is not validly signed by a key of the zone`,
      )
    }
  }
  const apex = {
    cds: rdataSet(first.cds.records.map(rawOf)),
    cdnskey: rdataSet(first.cdnskey.records.map(rawOf)),
  }
  // The delete signal (RFC 8078 §4): CDS 0 0 0 00 / CDNSKEY 0 3 0 AA==.
  const deleteCds = cdsRecords.some((ds) => ds.keyTag === 0 && ds.algorithm === 0)
  const deleteCdnskey = cdnskeys.some((key) => key.algorithm === 0)
  if (deleteCds || deleteCdnskey) {
    if ((cdsRecords.length > 0 && !deleteCds) || (cdnskeys.length > 0 && !deleteCdnskey)) {
      return fail('CDS and CDNSKEY disagree about deleting the DS set')
    }
    return { ok: true, servers: views, keys: childKeys, desired: 'delete', trustedBy, apex }
  }
  const desired =
    cdsRecords.length > 0
      ? cdsRecords.map((ds) => ({ ...ds, digest: ds.digest.toLowerCase() }))
      : cdnskeys.map((key) => dsFromDnskey(zone, key, 2))
  if (cdsRecords.length > 0 && cdnskeys.length > 0) {
    // Both published: they must name the same keys.
    const fromCds = new Set(cdsRecords.map((ds) => ds.keyTag))
    const fromCdnskey = new Set(cdnskeys.map((key) => keyTagOf(key)))
    if (fromCds.size !== fromCdnskey.size || [...fromCds].some((tag) => !fromCdnskey.has(tag))) {
      return fail('CDS and CDNSKEY name different keys')
    }
  }
  if (registryDs.length === 0) {
    // A first DS must point at a key that signs the DNSKEY RRset, or the zone turns bogus.
    const named = keys.filter((key) =>
      desired.some((ds) => ds.keyTag === keyTagOf(key) && ds.algorithm === key.algorithm),
    )
    if (
      signedByOneOf(
        zone,
        DNSKEY,
        keyRecords,
        first.dnskey.signatures,
        named,
        options.nowSeconds,
      ) === undefined
    ) {
      return fail('the DNSKEY RRset is not signed by a key the CDS or CDNSKEY names')
    }
  }
  return { ok: true, servers: views, keys: childKeys, desired, trustedBy, apex }
}
