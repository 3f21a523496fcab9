import { describe, expect, it } from 'vitest'
import { checkBootstrapSignals, type SignalValidator, signalName } from './bootstrap-signal.ts'
import type { ChainResult } from './chain-of-trust.ts'
import { parseTrustAnchor, ROOT_TRUST_ANCHORS } from './trust-anchors.ts'

const CDS = Buffer.from('30390d02aabbcc', 'hex')
const OTHER_CDS = Buffer.from('30390d02ddeeff', 'hex')

/** A validator answering from a table: `name|type` → the result. */
const validator = (table: Record<string, ChainResult>): SignalValidator => ({
  validated: async (name, type) =>
    table[`${name}|${type}`] ?? { ok: false, failure: 'missing', reason: `nothing at ${name}` },
})
const secure = (records: Buffer[]): ChainResult => ({ ok: true, records, zone: 'op.net' })
const apex = { cds: [CDS.toString('hex')], cdnskey: [] }
const name1 = '_dsboot.child.com._signal.ns1.op.net'
const name2 = '_dsboot.child.com._signal.ns2.op.net'

describe('RFC 9615 signal names', () => {
  it('prefixes the child and the name server, lower-cased', () => {
    expect(signalName('Child.COM.', 'NS1.op.net.')).toBe(name1)
  })
  it('has none for a name server inside the child', () => {
    expect(signalName('child.com', 'ns1.child.com')).toBeUndefined()
  })
  it('has none when the name would exceed 255 octets', () => {
    const label = 'a'.repeat(63)
    expect(signalName(`${label}.${label}.com`, `${label}.b.net`)).toBe(
      `_dsboot.${label}.${label}.com._signal.${label}.b.net`,
    )
    expect(signalName(`${label}.${label}.com`, `${label}.${label}.net`)).toBeUndefined()
  })
})

describe('checking the signals against the apex', () => {
  const both = { [`${name1}|CDS`]: secure([CDS]), [`${name2}|CDS`]: secure([CDS]) }
  it('accepts when every name server signals exactly the apex RRsets', async () => {
    const outcome = await checkBootstrapSignals(
      validator(both),
      'child.com',
      ['ns1.op.net', 'ns2.op.net'],
      apex,
    )
    expect(outcome).toEqual({ ok: true, names: [name1, name2] })
  })
  it('is a contradiction when an authenticated signal differs', async () => {
    const outcome = await checkBootstrapSignals(
      validator({ ...both, [`${name2}|CDS`]: secure([OTHER_CDS]) }),
      'child.com',
      ['ns1.op.net', 'ns2.op.net'],
      apex,
    )
    expect(outcome).toMatchObject({ ok: false, contradicts: true })
  })
  it('is a contradiction when a signal publishes a type the apex does not', async () => {
    const outcome = await checkBootstrapSignals(
      validator({ ...both, [`${name1}|CDNSKEY`]: secure([Buffer.from('0101030d00', 'hex')]) }),
      'child.com',
      ['ns1.op.net', 'ns2.op.net'],
      apex,
    )
    expect(outcome).toMatchObject({ ok: false, contradicts: true })
  })
  it('is no signal (not a contradiction) when one name server has none, or it is not authenticated', async () => {
    const missing = await checkBootstrapSignals(
      validator({ [`${name1}|CDS`]: secure([CDS]) }),
      'child.com',
      ['ns1.op.net', 'ns2.op.net'],
      apex,
    )
    expect(missing).toMatchObject({ ok: false, contradicts: false })
    expect(missing.ok ? '' : missing.reason).toMatch(name2)
    const bogus = await checkBootstrapSignals(
      validator({
        ...both,
        [`${name2}|CDS`]: { ok: false, failure: 'bogus', reason: 'bad signature' },
      }),
      'child.com',
      ['ns1.op.net', 'ns2.op.net'],
      apex,
    )
    expect(bogus).toMatchObject({ ok: false, contradicts: false })
  })
  it('is no signal when a name server sits inside the child, or there are none', async () => {
    const inside = await checkBootstrapSignals(
      validator(both),
      'child.com',
      ['ns1.op.net', 'ns1.child.com'],
      apex,
    )
    expect(inside).toMatchObject({ ok: false, contradicts: false })
    expect(inside.ok ? '' : inside.reason).toMatch(/ns1\.child\.com/)
    const none = await checkBootstrapSignals(validator(both), 'child.com', [], apex)
    expect(none).toMatchObject({ ok: false, contradicts: false })
  })
})

describe('trust anchors', () => {
  it("parses the root's KSKs and a TLD's DS line", () => {
    expect(ROOT_TRUST_ANCHORS.map(parseTrustAnchor)).toEqual([
      {
        zone: '',
        ds: {
          keyTag: 20326,
          algorithm: 8,
          digestType: 2,
          digest: 'e06d44b80b8f1d39a95c0b0d7c65d08458e880409bbc683457104237c7f8ec8d',
        },
      },
      expect.objectContaining({ zone: '', ds: expect.objectContaining({ keyTag: 38696 }) }),
    ])
    expect(
      parseTrustAnchor(
        'com. 3600 IN DS 19718 13 2 8ACBB0CD28F41250A80A491389424D341522D946B0DA0C0291F2D3D7 71D7805A',
      )?.zone,
    ).toBe('com')
  })
  it('refuses what is not a DS line, or a digest of the wrong length', () => {
    expect(parseTrustAnchor('com. IN DNSKEY 257 3 13 AAAA')).toBeUndefined()
    expect(parseTrustAnchor('com. IN DS 1 13 2 ABCD')).toBeUndefined()
  })
})
