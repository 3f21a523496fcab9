import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto'
import type { Answer } from 'dns-packet'
import { type Dnskey, dsFromDnskey, keyTagOf } from '#shared/dns/dnskey.ts'
import { signedData } from '#shared/dns/rrsig.ts'

/**
 * One ECDSA P-256 key (algorithm 13) that signs the emulator's parent zones as a TLD signs
 * its own: a DNSKEY RRset at each TLD's apex and an RRSIG over every DS RRset it serves, so a
 * chain of trust can start at a TLD (the trust anchors `trustAnchor` prints).
 */
export class ZoneSigningKey {
  readonly dnskey: Dnskey
  readonly keyTag: number
  readonly #privateKey: KeyObject

  /**
   * A new random key; with `seed` (32 bytes) the same key every time — the demo zones `npm start`
   * serves keep their keys across restarts, so a DS added to one stays valid.
   */
  constructor(seed?: Buffer) {
    const { publicKey, privateKey } = seed
      ? keyPairFromSeed(seed)
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    const jwk = publicKey.export({ format: 'jwk' })
    this.#privateKey = privateKey
    this.dnskey = {
      flags: 257,
      protocol: 3,
      algorithm: 13,
      publicKey: Buffer.concat([
        Buffer.from(jwk.x as string, 'base64url'),
        Buffer.from(jwk.y as string, 'base64url'),
      ]),
    }
    this.keyTag = keyTagOf(this.dnskey)
  }

  /** The RRSIG (as `dns-packet` encodes it) of `zone` over an RRset, valid from an hour ago for a week. */
  sign(
    zone: string,
    rrset: { readonly name: string; readonly type: string; readonly typeNumber: number },
    rdatas: readonly Buffer[],
    ttl: number,
    nowSeconds: number,
  ): Answer {
    const labels = rrset.name.split('.').filter(Boolean).length
    const rrsig = {
      typeCovered: rrset.typeNumber,
      algorithm: 13,
      labels,
      originalTtl: ttl,
      expiration: nowSeconds + 7 * 86_400,
      inception: nowSeconds - 3_600,
      keyTag: this.keyTag,
      signerName: zone,
      signature: Buffer.alloc(0),
    }
    const data = signedData(
      rrsig,
      rdatas.map((rdata) => ({ name: rrset.name, type: rrset.typeNumber, rdata })),
    )
    const signature = sign('sha256', data, { key: this.#privateKey, dsaEncoding: 'ieee-p1363' })
    return {
      type: 'RRSIG',
      name: rrset.name,
      ttl,
      class: 'IN',
      data: {
        typeCovered: rrset.type,
        algorithm: 13,
        labels,
        originalTTL: ttl,
        expiration: rrsig.expiration,
        inception: rrsig.inception,
        keyTag: this.keyTag,
        signersName: zone,
        signature,
      },
    } as Answer
  }

  /** The trust anchor for a TLD the emulator plays, in zone-file form (`DNSSEC_TRUST_ANCHORS`). */
  trustAnchor(tld: string): string {
    const ds = dsFromDnskey(tld, this.dnskey, 2)
    return `${tld}. IN DS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest.toUpperCase()}`
  }
}

/** The P-256 key pair whose private scalar is `seed`. */
function keyPairFromSeed(seed: Buffer): { publicKey: KeyObject; privateKey: KeyObject } {
  const ecdh = createECDH('prime256v1')
  ecdh.setPrivateKey(seed)
  const point = ecdh.getPublicKey()
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    x: point.subarray(1, 33).toString('base64url'),
    y: point.subarray(33, 65).toString('base64url'),
  }
  const privateKey = createPrivateKey({
    key: { ...jwk, d: seed.toString('base64url') },
    format: 'jwk',
  })
  return { publicKey: createPublicKey({ key: jwk, format: 'jwk' }), privateKey }
}
