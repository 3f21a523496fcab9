import { describe, expect, it } from 'vitest'
import { DnskeyError, dsFromDnskey, keyTagOf, parseDnskey } from './dnskey.ts'

// RFC 4034 section 5.4 and RFC 4509 section 2.3: dskey.example.com, key tag 60485.
const RFC_KEY =
  '256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw=='
// The root zone KSK-2017 and its published DS (IANA trust anchor).
const ROOT_KSK =
  '257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU='

describe('DS from DNSKEY', () => {
  it('matches RFC 4034 (SHA-1) and RFC 4509 (SHA-256) for dskey.example.com', () => {
    const key = parseDnskey(RFC_KEY)
    expect(keyTagOf(key)).toBe(60485)
    expect(dsFromDnskey('dskey.example.com.', key, 1)).toEqual({
      keyTag: 60485,
      algorithm: 5,
      digestType: 1,
      digest: '2bb183af5f22588179a53b0a98631fad1a292118',
    })
    expect(dsFromDnskey('dskey.example.com', key, 2).digest).toBe(
      'd4b7d520e7bb5f0f67674a0cceb1e3e0614b93c4f9e99b8383f6a1e4469da50a',
    )
  })

  it('matches the root KSK-2017 trust anchor', () => {
    const key = parseDnskey(ROOT_KSK)
    expect(dsFromDnskey('.', key, 2)).toEqual({
      keyTag: 20326,
      algorithm: 8,
      digestType: 2,
      digest: 'e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d',
    })
  })

  it('hashes the owner name case-insensitively and accepts a whole zone-file line', () => {
    const line = `DSKEY.Example.COM. 86400 IN DNSKEY ${RFC_KEY}`
    expect(dsFromDnskey('DSKEY.Example.COM', parseDnskey(line), 1).digest).toBe(
      '2bb183af5f22588179a53b0a98631fad1a292118',
    )
  })

  it('computes SHA-384 with the right length and refuses GOST', () => {
    const key = parseDnskey(ROOT_KSK)
    expect(dsFromDnskey('example.com', key, 4).digest).toMatch(/^[0-9a-f]{96}$/)
    expect(() => dsFromDnskey('example.com', key, 3)).toThrow(DnskeyError)
  })

  it.each([
    ['257 3', /flags|algorithm/],
    ['257 2 13 AAAAAAAA', /protocol must be 3/],
    ['1 3 13 AAAAAAAA', /zone key/],
    ['257 3 13 not*base64', /base64/],
    ['70000 3 13 AAAA', /flags/],
  ])('refuses %j', (text, message) => {
    expect(() => parseDnskey(text)).toThrow(message)
  })
})
