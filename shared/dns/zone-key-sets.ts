import type { Answer } from 'dns-packet'
import type { DnsAnswer, DnsServer } from './dns-client.ts'
import { type Dnskey, dnskeyRdata } from './dnskey.ts'
import { DNSKEY, dnskeyOf, rawOf, signedByOneOf } from './dnssec-records.ts'

/**
 * A zone's apex key sets as its servers serve them — DNSKEY, CDS and CDNSKEY, each server asked
 * directly — and the checks every reader of them makes: do the servers serve the same set, and is
 * a set signed by a key of the zone. The CDS/CDNSKEY scanner (scan-zone.ts) and the DS suggestion
 * (suggest-ds.ts) both read them.
 */

export type KeySetQuery = (
  server: DnsServer,
  name: string,
  type: 'DNSKEY' | 'CDS' | 'CDNSKEY',
) => Promise<DnsAnswer>

/** One server's answers for the zone's apex key sets. */
export interface KeySetAnswers {
  /** `host:port`. */
  readonly server: string
  readonly dnskey: DnsAnswer
  readonly cds: DnsAnswer
  readonly cdnskey: DnsAnswer
}

export const serverLabel = (server: DnsServer) => `${server.host}:${server.port}`

/** One server's DNSKEY, CDS and CDNSKEY RRsets of `zone`, asked at once. */
export async function askKeySets(
  query: KeySetQuery,
  server: DnsServer,
  zone: string,
): Promise<KeySetAnswers> {
  const [dnskey, cds, cdnskey] = await Promise.all([
    query(server, zone, 'DNSKEY'),
    query(server, zone, 'CDS'),
    query(server, zone, 'CDNSKEY'),
  ])
  return { server: serverLabel(server), dnskey, cds, cdnskey }
}

/** An RRset's content as one text to compare (its RDATA in hex, sorted). */
export const rrsetKey = (records: readonly Answer[], raw: (record: Answer) => Buffer = rawOf) =>
  records
    .map((record) => raw(record).toString('hex'))
    .sort()
    .join(',')

/** The DNSKEY RRset an answer carries, as one text to compare. */
export const dnskeySetKey = (answer: DnsAnswer) =>
  rrsetKey(answer.records, (record) => dnskeyRdata(dnskeyOf(record)))

/** The DNSKEY RRset of `keys` as signed (its wire records). */
export const dnskeyRecords = (zone: string, keys: readonly Dnskey[]) =>
  keys.map((key) => ({ name: zone, type: DNSKEY, rdata: dnskeyRdata(key) }))

/**
 * The first answer whose own signature over the DNSKEY RRset (`keys`) no key of `signers` made,
 * if any: each server's signatures are checked, since the providers of a multi-signer zone sign
 * separately.
 */
export function unsignedDnskeyAt<A extends { readonly dnskey: DnsAnswer }>(
  zone: string,
  answers: readonly A[],
  keys: readonly Dnskey[],
  signers: readonly Dnskey[],
  nowSeconds: number,
): A | undefined {
  const records = dnskeyRecords(zone, keys)
  return answers.find(
    (answer) =>
      signedByOneOf(zone, DNSKEY, records, answer.dnskey.signatures, signers, nowSeconds) ===
      undefined,
  )
}

/** Whether a CDS or CDNSKEY RRset as served is validly signed by one of `keys`. */
export function signedByZone(
  zone: string,
  type: number,
  rrset: DnsAnswer,
  keys: readonly Dnskey[],
  nowSeconds: number,
): boolean {
  const records = rrset.records.map((record) => ({ name: zone, type, rdata: rawOf(record) }))
  return signedByOneOf(zone, type, records, rrset.signatures, keys, nowSeconds) !== undefined
}
