import { createPublicKey, type KeyObject, verify } from 'node:crypto'
import { type Dnskey, nameToWire } from './dnskey.ts'

/**
 * RRSIG verification (RFC 4034 §3.1.8.1, §6) with `node:crypto`, for the algorithms a zone uses
 * today: 8 RSA/SHA-256, 10 RSA/SHA-512 (RFC 5702), 13 ECDSA P-256/SHA-256, 14 ECDSA P-384/SHA-384
 * (RFC 6605), 15 Ed25519 (RFC 8080). Pure: the clock is passed in.
 */

export interface Rrsig {
  readonly typeCovered: number
  readonly algorithm: number
  readonly labels: number
  readonly originalTtl: number
  /** Seconds since the epoch (serial-number arithmetic is not needed before 2106). */
  readonly expiration: number
  readonly inception: number
  readonly keyTag: number
  readonly signerName: string
  readonly signature: Buffer
}

/** One record of the RRset, its RDATA already in canonical wire form (no names to lower-case in DNSKEY, DS, CDS, CDNSKEY). */
export interface WireRecord {
  readonly name: string
  readonly type: number
  readonly rdata: Buffer
}

export type PublicDnskey = Dnskey

export const SUPPORTED_ALGORITHMS: ReadonlySet<number> = new Set([8, 10, 13, 14, 15])

const CLASS_IN = 1

const labelCount = (name: string) =>
  name
    .replace(/\.$/, '')
    .split('.')
    .filter((label) => label !== '' && label !== '*').length

/** The owner name as signed: lower-cased, and for a wildcard expansion `*.` + the last labels. */
function signedOwner(name: string, labels: number): string {
  const parts = name.replace(/\.$/, '').toLowerCase().split('.').filter(Boolean)
  if (parts.length <= labels) return parts.join('.')
  return ['*', ...parts.slice(parts.length - labels)].join('.')
}

/** The data an RRSIG signs: its RDATA without the signature, then the RRset in canonical order. */
export function signedData(rrsig: Rrsig, rrset: readonly WireRecord[]): Buffer {
  const head = Buffer.alloc(18)
  head.writeUInt16BE(rrsig.typeCovered, 0)
  head.writeUInt8(rrsig.algorithm, 2)
  head.writeUInt8(rrsig.labels, 3)
  head.writeUInt32BE(rrsig.originalTtl >>> 0, 4)
  head.writeUInt32BE(rrsig.expiration >>> 0, 8)
  head.writeUInt32BE(rrsig.inception >>> 0, 12)
  head.writeUInt16BE(rrsig.keyTag, 16)
  const parts: Buffer[] = [head, nameToWire(rrsig.signerName.toLowerCase())]
  // Canonical order (RFC 4034 §6.3): by RDATA as an unsigned octet string; duplicates once.
  const unique = new Map<string, WireRecord>()
  for (const record of rrset) unique.set(record.rdata.toString('hex'), record)
  const sorted = [...unique.values()].sort((a, b) => Buffer.compare(a.rdata, b.rdata))
  for (const record of sorted) {
    const fixed = Buffer.alloc(10)
    fixed.writeUInt16BE(record.type, 0)
    fixed.writeUInt16BE(CLASS_IN, 2)
    fixed.writeUInt32BE(rrsig.originalTtl >>> 0, 4)
    fixed.writeUInt16BE(record.rdata.length, 8)
    parts.push(nameToWire(signedOwner(record.name, rrsig.labels)), fixed, record.rdata)
  }
  return Buffer.concat(parts)
}

const b64url = (bytes: Buffer) => bytes.toString('base64url')

/** The DNSKEY's public key as a `node:crypto` key, or undefined for an unsupported algorithm. */
export function publicKeyOf(key: PublicDnskey): KeyObject | undefined {
  const bytes = key.publicKey
  switch (key.algorithm) {
    case 8:
    case 10: {
      // RFC 3110: exponent length (1 octet, or 0 then 2 octets), exponent, modulus.
      if (bytes.length < 3) return undefined
      const long = bytes[0] === 0
      const expLength = long ? bytes.readUInt16BE(1) : (bytes[0] as number)
      const start = long ? 3 : 1
      const exponent = bytes.subarray(start, start + expLength)
      const modulus = bytes.subarray(start + expLength)
      if (exponent.length !== expLength || modulus.length === 0) return undefined
      return createPublicKey({
        key: { kty: 'RSA', n: b64url(modulus), e: b64url(exponent) },
        format: 'jwk',
      })
    }
    case 13:
    case 14: {
      const size = key.algorithm === 13 ? 32 : 48
      if (bytes.length !== size * 2) return undefined
      return createPublicKey({
        key: {
          kty: 'EC',
          crv: key.algorithm === 13 ? 'P-256' : 'P-384',
          x: b64url(bytes.subarray(0, size)),
          y: b64url(bytes.subarray(size)),
        },
        format: 'jwk',
      })
    }
    case 15:
      if (bytes.length !== 32) return undefined
      return createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: b64url(bytes) },
        format: 'jwk',
      })
    default:
      return undefined
  }
}

const HASHES: Record<number, string | null> = {
  8: 'sha256',
  10: 'sha512',
  13: 'sha256',
  14: 'sha384',
  15: null,
}

export type Verdict =
  | { readonly ok: true }
  | {
      readonly ok: false
      readonly reason:
        | 'unsupported-algorithm'
        | 'key-mismatch'
        | 'not-yet-valid'
        | 'expired'
        | 'wrong-rrset'
        | 'bad-signature'
    }

/**
 * Checks one RRSIG over an RRset with one DNSKEY: the key must match the signature (algorithm,
 * key tag given by the caller, zone-key flag, protocol 3), the RRset must be the covered type
 * with no more labels than the owner, `now` must lie between inception and expiration, and the
 * signature must verify over the canonical form.
 */
export function verifyRrsig(
  rrsig: Rrsig,
  rrset: readonly WireRecord[],
  key: PublicDnskey,
  nowSeconds: number,
): Verdict {
  const hash = HASHES[rrsig.algorithm]
  if (hash === undefined || !SUPPORTED_ALGORITHMS.has(rrsig.algorithm)) {
    return { ok: false, reason: 'unsupported-algorithm' }
  }
  if (key.algorithm !== rrsig.algorithm || key.protocol !== 3 || (key.flags & 0x0100) === 0) {
    return { ok: false, reason: 'key-mismatch' }
  }
  if (
    rrset.length === 0 ||
    rrset.some(
      (record) => record.type !== rrsig.typeCovered || labelCount(record.name) < rrsig.labels,
    )
  ) {
    return { ok: false, reason: 'wrong-rrset' }
  }
  if (nowSeconds < rrsig.inception) return { ok: false, reason: 'not-yet-valid' }
  if (nowSeconds > rrsig.expiration) return { ok: false, reason: 'expired' }
  const publicKey = publicKeyOf(key)
  if (!publicKey) return { ok: false, reason: 'key-mismatch' }
  const data = signedData(rrsig, rrset)
  const ecdsa = rrsig.algorithm === 13 || rrsig.algorithm === 14
  let valid = false
  try {
    valid = verify(
      hash,
      data,
      ecdsa ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey,
      rrsig.signature,
    )
  } catch {
    valid = false
  }
  return valid ? { ok: true } : { ok: false, reason: 'bad-signature' }
}
