import { describe, expect, it } from 'vitest'
import { dnskeyRdata, dsFromDnskey, keyTagOf, nameToWire, parseDnskey } from './dnskey.ts'
import { type Rrsig, signedData, verifyRrsig, type WireRecord } from './rrsig.ts'

/**
 * The published examples: RFC 5702 §6.1/6.2 (RSA/SHA-256, RSA/SHA-512), RFC 6605 §6.1/6.2 (ECDSA
 * P-256, P-384) and RFC 8080 §6.1 with its errata (Ed25519). Each verifies; each corrupted,
 * outside its validity period, or against the wrong key does not.
 */
const at = (stamp: string) =>
  Date.UTC(
    Number(stamp.slice(0, 4)),
    Number(stamp.slice(4, 6)) - 1,
    Number(stamp.slice(6, 8)),
    Number(stamp.slice(8, 10)),
    Number(stamp.slice(10, 12)),
    Number(stamp.slice(12, 14)),
  ) / 1000

const aRecord = (name: string, ip: string): WireRecord => ({
  name,
  type: 1,
  rdata: Buffer.from(ip.split('.').map(Number)),
})
const mxRecord = (name: string, preference: number, exchange: string): WireRecord => {
  const head = Buffer.alloc(2)
  head.writeUInt16BE(preference)
  return { name, type: 15, rdata: Buffer.concat([head, nameToWire(exchange)]) }
}

interface Vector {
  readonly name: string
  readonly dnskey: string
  readonly keyTag: number
  readonly record: WireRecord
  readonly rrsig: Omit<Rrsig, 'signature'> & { readonly signature: string }
}

const VECTORS: Vector[] = [
  {
    name: 'RFC 5702 §6.1 RSA/SHA-256 (8)',
    dnskey:
      '256 3 8 AwEAAcFcGsaxxdgiuuGmCkVImy4h99CqT7jwY3pexPGcnUFtR2Fh36BponcwtkZ4cAgtvd4Qs8PkxUdp6p/DlUmObdk=',
    keyTag: 9033,
    record: aRecord('www.example.net', '192.0.2.91'),
    rrsig: {
      typeCovered: 1,
      algorithm: 8,
      labels: 3,
      originalTtl: 3600,
      expiration: at('20300101000000'),
      inception: at('20000101000000'),
      keyTag: 9033,
      signerName: 'example.net',
      signature:
        'kRCOH6u7l0QGy9qpC9l1sLncJcOKFLJ7GhiUOibu4teYp5VE9RncriShZNz85mwlMgNEacFYK/lPtPiVYP4bwg==',
    },
  },
  {
    name: 'RFC 5702 §6.2 RSA/SHA-512 (10)',
    dnskey:
      '256 3 10 AwEAAdHoNTOW+et86KuJOWRDp1pndvwb6Y83nSVXXyLA3DLroROUkN6X0O6pnWnjJQujX/AyhqFDxj13tOnD9u/1kTg7cV6rklMrZDtJCQ5PCl/D7QNPsgVsMu1J2Q8gpMpztNFLpPBz1bWXjDtaR7ZQBlZ3PFY12ZTSncorffcGmhOL',
    keyTag: 3740,
    record: aRecord('www.example.net', '192.0.2.91'),
    rrsig: {
      typeCovered: 1,
      algorithm: 10,
      labels: 3,
      originalTtl: 3600,
      expiration: at('20300101000000'),
      inception: at('20000101000000'),
      keyTag: 3740,
      signerName: 'example.net',
      signature:
        'tsb4wnjRUDnB1BUi+t6TMTXThjVnG+eCkWqjvvjhzQL1d0YRoOe0CbxrVDYd0xDtsuJRaeUw1ep94PzEWzr0iGYgZBWm/zpq+9fOuagYJRfDqfReKBzMweOLDiNa8iP5g9vMhpuv6OPlvpXwm9Sa9ZXIbNl1MBGk0fthPgxdDLw=',
    },
  },
  {
    name: 'RFC 6605 §6.1 ECDSA P-256 (13)',
    dnskey:
      '257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==',
    keyTag: 55648,
    record: aRecord('www.example.net', '192.0.2.1'),
    rrsig: {
      typeCovered: 1,
      algorithm: 13,
      labels: 3,
      originalTtl: 3600,
      expiration: at('20100909100439'),
      inception: at('20100812100439'),
      keyTag: 55648,
      signerName: 'example.net',
      signature:
        'qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==',
    },
  },
  {
    name: 'RFC 6605 §6.2 ECDSA P-384 (14)',
    dnskey:
      '257 3 14 xKYaNhWdGOfJ+nPrL8/arkwf2EY3MDJ+SErKivBVSum1w/egsXvSADtNJhyem5RCOpgQ6K8X1DRSEkrbYQ+OB+v8/uX45NBwY8rp65F6Glur8I/mlVNgF6W/qTI37m40',
    keyTag: 10771,
    record: aRecord('www.example.net', '192.0.2.1'),
    rrsig: {
      typeCovered: 1,
      algorithm: 14,
      labels: 3,
      originalTtl: 3600,
      expiration: at('20100909102025'),
      inception: at('20100812102025'),
      keyTag: 10771,
      signerName: 'example.net',
      signature:
        '/L5hDKIvGDyI1fcARX3z65qrmPsVz73QD1Mr5CEqOiLP95hxQouuroGCeZOvzFaxsT8Glr74hbavRKayJNuydCuzWTSSPdz7wnqXL5bdcJzusdnI0RSMROxxwGipWcJm',
    },
  },
  {
    name: 'RFC 8080 §6.1 Ed25519 (15), as corrected by erratum 4935',
    dnskey: '257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=',
    keyTag: 3613,
    record: mxRecord('example.com', 10, 'mail.example.com'),
    rrsig: {
      typeCovered: 15,
      algorithm: 15,
      labels: 2,
      originalTtl: 3600,
      expiration: 1440021600,
      inception: 1438207200,
      keyTag: 3613,
      signerName: 'example.com',
      signature:
        'oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==',
    },
  },
]

const rrsigOf = (vector: Vector): Rrsig => ({
  ...vector.rrsig,
  signature: Buffer.from(vector.rrsig.signature, 'base64'),
})
const during = (vector: Vector) => vector.rrsig.inception + 60

describe('RRSIG verification against the published examples', () => {
  it.each(VECTORS)('$name verifies', (vector) => {
    const key = parseDnskey(vector.dnskey)
    expect(keyTagOf(key)).toBe(vector.keyTag)
    expect(verifyRrsig(rrsigOf(vector), [vector.record], key, during(vector))).toEqual({
      ok: true,
    })
  })

  it.each(VECTORS)('$name: a flipped bit, another record, the wrong time or key fail', (vector) => {
    const key = parseDnskey(vector.dnskey)
    const rrsig = rrsigOf(vector)
    const flipped = Buffer.from(rrsig.signature)
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0x01
    const now = during(vector)
    expect(verifyRrsig({ ...rrsig, signature: flipped }, [vector.record], key, now).ok).toBe(false)
    const other = { ...vector.record, rdata: Buffer.from(vector.record.rdata).fill(7, 0, 1) }
    expect(verifyRrsig(rrsig, [other], key, now)).toEqual({ ok: false, reason: 'bad-signature' })
    expect(verifyRrsig(rrsig, [vector.record], key, rrsig.expiration + 1)).toEqual({
      ok: false,
      reason: 'expired',
    })
    expect(verifyRrsig(rrsig, [vector.record], key, rrsig.inception - 1)).toEqual({
      ok: false,
      reason: 'not-yet-valid',
    })
    const otherKey = parseDnskey(VECTORS.find((v) => v !== vector)?.dnskey as string)
    expect(verifyRrsig(rrsig, [vector.record], otherKey, now).ok).toBe(false)
  })

  it('builds the signed data of RFC 8080 §6.1 octet for octet', () => {
    const vector = VECTORS[4] as Vector
    // As printed by the RFC's authors' reference script (and used by PowerDNS's tests).
    const expected =
      '000f0f0200000e1055d4fc6055b94ce00e1d076578616d706c6503636f6d00076578616d706c6503636f6d00000f000100000e100014000a046d61696c076578616d706c6503636f6d00'
    expect(signedData(rrsigOf(vector), [vector.record]).toString('hex')).toBe(expected)
  })

  it('the DS of the RFC 8080 key is the published one', () => {
    const key = parseDnskey('257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=')
    expect(dsFromDnskey('example.com', key, 2).digest).toBe(
      '3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b',
    )
    expect(dnskeyRdata(key)).toHaveLength(36)
  })
})
