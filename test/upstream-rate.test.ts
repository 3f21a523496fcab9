import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { bucketAccountOf, limiterFor } from '#shared/composition/limiter-for.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { randomId } from '#shared/ids.ts'
import { createStores } from '#shared/store/stores.ts'
import { localDynamoDb } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

/**
 * One upstream rate for the whole Alibaba Cloud account, shared by every worker through a token
 * bucket in the table: two workers together never exceed it, and a throttling answer seen by
 * one slows both. The bounds are upper bounds (a slow machine only makes fewer calls).
 */
const env = (tableName: string, endpoint: string) => ({
  TABLE_NAME: tableName,
  DYNAMODB_ENDPOINT: endpoint,
  AWS_REGION: 'us-east-1',
  ALIYUN_ACCESS_KEY_ID: 'LTAIshared',
  ALIYUN_ACCESS_KEY_SECRET: 'secret',
  UPSTREAM_RATE_PER_SECOND: '20',
  UPSTREAM_RATE_BURST: '4',
  UPSTREAM_RATE_BATCH: '2',
  UPSTREAM_RATE_SLOW_SECONDS: '60',
})

describe('the account-wide upstream rate, on the table', () => {
  let config: ReturnType<typeof loadSettings>
  beforeAll(async () => {
    const db = await localDynamoDb()
    const table = `rate-${randomId('t', 8).toLowerCase()}`
    await ensureTable(db.endpoint, table)
    config = loadSettings(env(table, db.endpoint))
  })

  /** Two workers (own store clients, own limiters) acquiring as fast as they can for `ms`. */
  async function race(ms: number) {
    const buckets = [0, 1].map(() => createStores(config.store).buckets)
    // Each worker's store client has made its connection before the clock starts (on a busy
    // machine a cold client's first request alone can take much of the race).
    await Promise.all(buckets.map((bucket) => bucket.read('warm-up')))
    const workers = buckets.map((bucket) => limiterFor(config.upstream, bucket))
    const started = Date.now()
    const counts = [0, 0]
    await Promise.all(
      workers.map(async (limiter, index) => {
        while (Date.now() - started < ms) {
          await limiter?.acquire()
          if (Date.now() - started >= ms) break
          counts[index] = (counts[index] ?? 0) + 1
        }
      }),
    )
    return { counts, elapsed: Date.now() - started, workers }
  }

  it('two workers together stay within the rate and burst', async () => {
    const { counts, elapsed } = await race(1_500)
    const total = (counts[0] ?? 0) + (counts[1] ?? 0)
    // Burst + rate × time (+ one batch each held locally at the start).
    expect(total).toBeLessThanOrEqual(4 + (20 * elapsed) / 1000 + 4)
    // Both got a share (neither was starved by the other's writes).
    expect(counts.every((count) => count > 0)).toBe(true)
  })

  it('a throttling answer seen by one worker slows the other too', async () => {
    const [first, second] = [0, 1].map(() =>
      limiterFor(config.upstream, createStores(config.store).buckets),
    )
    await first?.throttled()
    const started = Date.now()
    let calls = 0
    while (Date.now() - started < 1_000) {
      await second?.acquire()
      calls++
    }
    const elapsed = Date.now() - started
    // Half the rate, from an empty bucket (plus the batch the last acquire may have taken).
    expect(calls).toBeLessThanOrEqual((10 * elapsed) / 1000 + 2)
  })
})

describe('the upstream client asks the shared bucket', () => {
  let p: Pipeline
  beforeAll(async () => {
    p = await startPipeline({
      env: { UPSTREAM_RATE_PER_SECOND: '5', UPSTREAM_RATE_BURST: '2', UPSTREAM_RATE_BATCH: '1' },
      // The last of six submissions waits ~0.8 s for its token, longer on a busy machine: its
      // intent must not lapse meanwhile (the pipeline's 1-s window would answer it 503).
      sendWindowMs: 10_000,
    })
  })
  afterAll(() => p.closeAll())

  it('spaces the account’s calls at the configured rate, and records a throttling answer', async () => {
    const started = Date.now()
    const submitted = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) => p.submit(`/domains/rate-${i}.com/ds/sync`)),
    )
    expect(submitted.map((s) => s.status)).toEqual([202, 202, 202, 202, 202, 202])
    const elapsed = Date.now() - started
    // Six Save* calls: two from the burst, four more at 5/s — at least 0.8 s, however fast.
    expect(elapsed).toBeGreaterThanOrEqual(600)
    expect(p.emulator.account.tasks.size).toBe(6)
    // A throttling answer slows the account's bucket for everyone (stored in the table).
    p.emulator.faults.set([{ kind: 'throttle', count: 1, actions: ['QueryDSRecord'] }])
    await p.request('/domains/rate-1.com/ds', { key: p.tenant.key })
    const config = loadSettings(p.env)
    const bucket = await createStores(config.store).buckets.read(bucketAccountOf(config.upstream))
    expect(bucket?.state.slowFactor).toBe(0.5)
  })
})
