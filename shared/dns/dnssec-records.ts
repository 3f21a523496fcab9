import type { Answer, DnskeyAnswer, RrsigAnswer } from 'dns-packet'
import {
  COMPUTABLE_DIGEST_TYPES,
  type Dnskey,
  type DsRecord,
  dsFromDnskey,
  keyTagOf,
} from './dnskey.ts'
import { type Rrsig, verifyRrsig, type WireRecord } from './rrsig.ts'

/**
 * DNSSEC records as `dns-packet` decodes them, turned into the forms the validator checks:
 * DNSKEY, DS, CDS and CDNSKEY RDATA, RRSIGs, and whether one of a set of keys signed an RRset.
 */

export const DNSKEY = 48
export const DS = 43
export const CDS = 59
export const CDNSKEY = 60

/** A name as compared: lower case, no trailing dot (the root is ''). */
export const canonicalName = (name: string) => name.toLowerCase().replace(/\.$/, '')

export function dnskeyOf(answer: Answer): Dnskey {
  const data = (answer as DnskeyAnswer).data
  return { flags: data.flags, protocol: 3, algorithm: data.algorithm, publicKey: data.key }
}

/** The RDATA of a type `dns-packet` does not decode (CDS, CDNSKEY). */
export function rawOf(answer: Answer): Buffer {
  return (answer as { data: Buffer }).data
}

export function cdsOf(raw: Buffer): DsRecord {
  return {
    keyTag: raw.readUInt16BE(0),
    algorithm: raw.readUInt8(2),
    digestType: raw.readUInt8(3),
    digest: raw.subarray(4).toString('hex'),
  }
}

export function cdnskeyOf(raw: Buffer): Dnskey {
  return {
    flags: raw.readUInt16BE(0),
    protocol: raw.readUInt8(2),
    algorithm: raw.readUInt8(3),
    publicKey: raw.subarray(4),
  }
}

/** A DS record as `dns-packet` decodes it. */
export function dsOf(answer: Answer): DsRecord {
  const data = (
    answer as { data: { keyTag: number; algorithm: number; digestType: number; digest: Buffer } }
  ).data
  return {
    keyTag: data.keyTag,
    algorithm: data.algorithm,
    digestType: data.digestType,
    digest: data.digest.toString('hex'),
  }
}

/** DS (and CDS) RDATA in wire form. */
export function dsRdataOf(ds: DsRecord): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt16BE(ds.keyTag, 0)
  head.writeUInt8(ds.algorithm, 2)
  head.writeUInt8(ds.digestType, 3)
  return Buffer.concat([head, Buffer.from(ds.digest, 'hex')])
}

export function rrsigOf(answer: Answer, type: number): Rrsig {
  const data = (answer as RrsigAnswer).data
  return {
    typeCovered: type,
    algorithm: data.algorithm,
    labels: data.labels,
    originalTtl: data.originalTTL,
    expiration: data.expiration,
    inception: data.inception,
    keyTag: data.keyTag,
    signerName: data.signersName,
    signature: data.signature,
  }
}

export const dsKey = (ds: DsRecord) =>
  `${ds.keyTag}/${ds.algorithm}/${ds.digestType}/${ds.digest.toLowerCase()}`

/** The keys of `zone` that one of the DS records points at (digest checked; SHA-1/256/384). */
export function keysMatchingDs(
  zone: string,
  keys: readonly Dnskey[],
  records: readonly DsRecord[],
): Dnskey[] {
  const wanted = new Set(records.map(dsKey))
  const computable: readonly number[] = COMPUTABLE_DIGEST_TYPES
  return keys.filter((key) =>
    records.some(
      (ds) =>
        ds.keyTag === keyTagOf(key) &&
        ds.algorithm === key.algorithm &&
        computable.includes(ds.digestType) &&
        wanted.has(dsKey(dsFromDnskey(zone, key, ds.digestType))),
    ),
  )
}

/** The signer names of an RRset's signatures. */
export const signersOf = (signatures: readonly Answer[]) => [
  ...new Set(
    signatures.map((signature) => canonicalName((signature as RrsigAnswer).data.signersName)),
  ),
]

/** The key tag of the first RRSIG over the RRset, made by `zone`, that verifies with one of the keys. */
export function signedByOneOf(
  zone: string,
  type: number,
  records: readonly WireRecord[],
  signatures: readonly Answer[],
  keys: readonly Dnskey[],
  nowSeconds: number,
): number | undefined {
  for (const signature of signatures) {
    const rrsig = rrsigOf(signature, type)
    if (canonicalName(rrsig.signerName) !== canonicalName(zone)) continue
    for (const key of keys) {
      if (keyTagOf(key) !== rrsig.keyTag || key.algorithm !== rrsig.algorithm) continue
      if (verifyRrsig(rrsig, records, key, nowSeconds).ok) return rrsig.keyTag
    }
  }
  return undefined
}

/** The sorted hex RDATA of an RRset: two RRsets are equal when these are. */
export const rdataSet = (rdatas: readonly Buffer[]) =>
  [...new Set(rdatas.map((rdata) => rdata.toString('hex')))].sort()
