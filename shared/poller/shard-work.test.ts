import { describe, expect, it } from 'vitest'
import { MAX_SHARDS, parseShardWork, planShardWork, shardWorkBody } from './shard-work.ts'

describe('planShardWork', () => {
  it('deals every shard to exactly one worker, the groups differing by at most one', () => {
    for (const shardCount of [1, 2, 7, 8, 16, 63, MAX_SHARDS]) {
      for (const workers of [1, 2, 3, 4, 5, 8, 64]) {
        const parts = planShardWork(shardCount, workers, 1_000)
        expect(parts).toHaveLength(Math.min(workers, shardCount))
        const dealt = parts.flatMap((part) => part.shards).sort((a, b) => a - b)
        expect(dealt).toEqual(Array.from({ length: shardCount }, (_, shard) => shard))
        const sizes = parts.map((part) => part.shards.length)
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
        for (const part of parts) expect(part.notAfter).toBe(1_000)
      }
    }
  })

  it('gives one part of every shard when there is one worker', () => {
    expect(planShardWork(4, 1, 5)).toEqual([{ shards: [0, 1, 2, 3], notAfter: 5 }])
  })
})

describe('parseShardWork', () => {
  it('reads back what a dispatcher writes', () => {
    const work = { shards: [1, 5, 9], notAfter: 1_765_000_000_000 }
    expect(parseShardWork(shardWorkBody(work))).toEqual({ ok: true, work })
  })

  it.each([
    ['not JSON', '{shards'],
    ['no shards', '{"shards":[],"notAfter":1}'],
    ['a shard the index cannot have', `{"shards":[${MAX_SHARDS}],"notAfter":1}`],
    ['a negative shard', '{"shards":[-1],"notAfter":1}'],
    ['a shard named twice', '{"shards":[2,2],"notAfter":1}'],
    ['no end', '{"shards":[2]}'],
    ['an unknown field', '{"shards":[2],"notAfter":1,"extra":true}'],
  ])('refuses %s', (_, body) => {
    expect(parseShardWork(body).ok).toBe(false)
  })
})
