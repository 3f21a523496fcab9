import { describe, expect, it } from 'vitest'
import { decideRollover } from './rollover.ts'

const ds = (keyTag: number) => ({
  keyTag,
  algorithm: 13,
  digestType: 2,
  digest: String(keyTag % 10).repeat(64),
})
const ksk = (keyTag: number, sep = true) => ({ keyTag, algorithm: 13, flags: sep ? 257 : 256, sep })
const NOW = 1_800_000_000_000

describe('decideRollover', () => {
  it('adds a new DS only for a key served with the SEP flag, keeping the old one', () => {
    const decision = decideRollover({
      desired: [ds(2)],
      keys: [ksk(1), ksk(2)],
      registry: [ds(1)],
      parent: { records: [ds(1)], ttlSeconds: 3600 },
      now: NOW,
    })
    expect(decision).toEqual({ kind: 'apply', records: [ds(1), ds(2)], phase: 'adding' })
    expect(
      decideRollover({
        desired: [ds(2)],
        keys: [ksk(1), ksk(2, false)],
        registry: [ds(1)],
        parent: { records: [ds(1)], ttlSeconds: 3600 },
        now: NOW,
      }),
    ).toMatchObject({ kind: 'refuse' })
  })

  it('waits for the parent to publish, then for its TTL, then removes the old DS', () => {
    const base = { desired: [ds(2)], keys: [ksk(1), ksk(2)], registry: [ds(1), ds(2)], now: NOW }
    expect(
      decideRollover({ ...base, parent: { records: [ds(1)], ttlSeconds: 3600 } }),
    ).toMatchObject({ kind: 'wait', phase: 'awaiting-publication' })
    const published = decideRollover({
      ...base,
      parent: { records: [ds(1), ds(2)], ttlSeconds: 3600 },
    })
    expect(published).toMatchObject({ kind: 'wait', phase: 'awaiting-ttl', publishedSince: NOW })
    expect(
      decideRollover({
        ...base,
        parent: { records: [ds(1), ds(2)], ttlSeconds: 3600 },
        publishedSince: NOW,
        now: NOW + 3_599_000,
      }),
    ).toMatchObject({ kind: 'wait', phase: 'awaiting-ttl' })
    expect(
      decideRollover({
        ...base,
        parent: { records: [ds(1), ds(2)], ttlSeconds: 3600 },
        publishedSince: NOW,
        now: NOW + 3_600_000,
      }),
    ).toEqual({ kind: 'apply', records: [ds(2)], phase: 'removing' })
  })

  it('is in sync once the registry and the parent hold exactly the desired set', () => {
    const input = {
      desired: [ds(2)],
      keys: [ksk(2)],
      registry: [ds(2)],
      now: NOW,
    }
    expect(
      decideRollover({ ...input, parent: { records: [ds(1), ds(2)], ttlSeconds: 60 } }),
    ).toMatchObject({
      kind: 'wait',
      phase: 'awaiting-publication',
    })
    expect(decideRollover({ ...input, parent: { records: [ds(2)], ttlSeconds: 60 } })).toEqual({
      kind: 'in-sync',
    })
  })
})
