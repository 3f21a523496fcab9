import { describe, expect, it } from 'vitest'
import type { BucketStore } from './bucket-store.ts'
import { SharedUpstreamLimiter } from './shared-limiter.ts'
import type { BucketState } from './token-bucket.ts'

/** A bucket store in memory with the table's rule: a write names the version it read. */
function memoryBuckets(): BucketStore {
  let item: { state: BucketState; version: number } | undefined
  return {
    read: async () => item,
    write: async (_account, state, version) => {
      if (item?.version !== version) return false
      item = { state, version: (version ?? 0) + 1 }
      return true
    },
  }
}

const settings = { ratePerSecond: 10, burst: 1, batch: 1, slowForMs: 30_000 }

describe('the shared upstream limiter', () => {
  it('waits for the refill and up to half as long again, by the random number it is given', async () => {
    const waits = (random: number) => {
      const store = memoryBuckets()
      let now = 0
      const slept: number[] = []
      const limiter = new SharedUpstreamLimiter({
        store,
        account: 'a',
        settings,
        now: () => now,
        sleep: async (ms) => {
          slept.push(ms)
          now += ms
        },
        random: () => random,
      })
      return { limiter, slept }
    }
    // The first takes the only token; the next waits 100 ms for a refill, times 1 + random / 2.
    const first = waits(0)
    await first.limiter.acquire()
    await first.limiter.acquire()
    expect(first.slept).toEqual([100])
    const spread = waits(0.8)
    await spread.limiter.acquire()
    await spread.limiter.acquire()
    expect(spread.slept[0]).toBeCloseTo(140)
  })
})
