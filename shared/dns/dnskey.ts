import { createHash } from 'node:crypto'

/** DNSSEC algorithm numbers the Domain API accepts. */
export const DNSSEC_ALGORITHMS = [
  1, 2, 3, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16, 252, 253, 254,
] as const
/** Digest hex length per DS digest type: 1 SHA-1, 2 SHA-256, 3 GOST R 34.11-94, 4 SHA-384. */
export const DIGEST_HEX_LENGTH: Readonly<Record<number, number>> = { 1: 40, 2: 64, 3: 64, 4: 96 }
export const DIGEST_TYPES = [1, 2, 3, 4] as const

/** Digest types the gateway can compute itself from a DNSKEY (GOST is not in Node's crypto). */
const COMPUTABLE_DIGESTS: Readonly<Record<number, string>> = { 1: 'sha1', 2: 'sha256', 4: 'sha384' }
export const COMPUTABLE_DIGEST_TYPES = [1, 2, 4] as const

export interface Dnskey {
  readonly flags: number
  readonly protocol: number
  readonly algorithm: number
  readonly publicKey: Buffer
}

export interface DsRecord {
  readonly keyTag: number
  readonly algorithm: number
  readonly digestType: number
  /** Lower-case hex. */
  readonly digest: string
}

export class DnskeyError extends Error {
  override name = 'DnskeyError'
}

/**
 * Parses the presentation form of DNSKEY RDATA: `<flags> <protocol> <algorithm> <base64 key>`,
 * the key possibly split by white space. An owner name, TTL, class and type in front (a whole
 * zone-file line) are accepted and ignored.
 */
export function parseDnskey(text: string): Dnskey {
  const fields = text.trim().split(/\s+/)
  const typeIndex = fields.findIndex((field) => field.toUpperCase() === 'DNSKEY')
  const rdata = typeIndex >= 0 ? fields.slice(typeIndex + 1) : fields
  const [flagsText, protocolText, algorithmText, ...keyParts] = rdata
  const number = (value: string | undefined, name: string, max: number) => {
    if (value === undefined || !/^\d+$/.test(value) || Number(value) > max) {
      throw new DnskeyError(`the DNSKEY ${name} must be a number from 0 to ${max}`)
    }
    return Number(value)
  }
  const flags = number(flagsText, 'flags', 65_535)
  const protocol = number(protocolText, 'protocol', 255)
  const algorithm = number(algorithmText, 'algorithm', 255)
  if (!(DNSSEC_ALGORITHMS as readonly number[]).includes(algorithm)) {
    throw new DnskeyError(
      `the DNSKEY algorithm must be one the registry accepts: ${DNSSEC_ALGORITHMS.join(', ')}`,
    )
  }
  if (protocol !== 3)
    throw new DnskeyError('the DNSKEY protocol must be 3 (RFC 4034 section 2.1.2)')
  if ((flags & 0x0100) === 0) {
    throw new DnskeyError('the DNSKEY is not a zone key (flag bit 7, value 256, must be set)')
  }
  const base64 = keyParts.join('')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new DnskeyError('the DNSKEY public key must be base64')
  }
  const publicKey = Buffer.from(base64, 'base64')
  if (publicKey.length < 4) throw new DnskeyError('the DNSKEY public key is too short')
  return { flags, protocol, algorithm, publicKey }
}

export function dnskeyRdata(key: Dnskey): Buffer {
  const header = Buffer.alloc(4)
  header.writeUInt16BE(key.flags, 0)
  header.writeUInt8(key.protocol, 2)
  header.writeUInt8(key.algorithm, 3)
  return Buffer.concat([header, key.publicKey])
}

/** RFC 4034 appendix B: the key tag of a DNSKEY (algorithm 1 has its own rule, B.1). */
export function keyTagOf(key: Dnskey): number {
  if (key.algorithm === 1) {
    const modulus = key.publicKey
    return modulus.readUInt16BE(modulus.length - 3)
  }
  const rdata = dnskeyRdata(key)
  let sum = 0
  for (let i = 0; i < rdata.length; i++) {
    sum += i & 1 ? (rdata[i] as number) : (rdata[i] as number) << 8
  }
  sum += (sum >> 16) & 0xffff
  return sum & 0xffff
}

/** A domain name in canonical wire form (RFC 4034 section 6.2): lower-case labels, root last. */
export function nameToWire(name: string): Buffer {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.').filter(Boolean)
  const parts: Buffer[] = []
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii')
    parts.push(Buffer.from([bytes.length]), bytes)
  }
  parts.push(Buffer.from([0]))
  return Buffer.concat(parts)
}

/**
 * The DS record a parent should hold for a key given as DNSKEY text. The DS points at the
 * key-signing key, so a key without the SEP flag (flags 256, a zone-signing key) is refused: its
 * DS would point at the wrong key as soon as the zone's keys are split. A zone signed by one key
 * without the flag can still have its DS given directly.
 */
export function dsForKeySigningKey(owner: string, text: string, digestType: number): DsRecord {
  const key = parseDnskey(text)
  if ((key.flags & 0x0001) === 0) {
    throw new DnskeyError(
      `the DNSKEY has flags ${key.flags}, without the SEP flag: a zone-signing key. Give the key-signing key (flags 257); if this zone is signed by this key alone, send its DS record (keyTag, algorithm, digestType, digest) instead`,
    )
  }
  return dsFromDnskey(owner, key, digestType)
}

/**
 * The DS record for a DNSKEY of `owner` (RFC 4034 section 5.1.4):
 * digest = hash(owner name in wire form | DNSKEY RDATA).
 */
export function dsFromDnskey(owner: string, key: Dnskey, digestType: number): DsRecord {
  const hash = COMPUTABLE_DIGESTS[digestType]
  if (!hash) {
    throw new DnskeyError(`digest type ${digestType} cannot be computed here; use 1, 2 or 4`)
  }
  const digest = createHash(hash).update(nameToWire(owner)).update(dnskeyRdata(key)).digest('hex')
  return { keyTag: keyTagOf(key), algorithm: key.algorithm, digestType, digest }
}
