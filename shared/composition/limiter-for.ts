import { createHash } from 'node:crypto'
import type { DomainApiSettings } from '../aliyun/domain-api-settings.ts'
import { sleep } from '../backoff.ts'
import type { BucketStore } from '../upstream-rate/bucket-store.ts'
import { SharedUpstreamLimiter, type UpstreamLimiter } from '../upstream-rate/shared-limiter.ts'

/** Whose bucket: one per account, a digest of its access key id (the id stays out of the table). */
export const bucketAccountOf = (upstream: DomainApiSettings): string =>
  createHash('sha256').update(upstream.credentials.accessKeyId).digest('hex').slice(0, 16)

/** The account's shared limiter when `UPSTREAM_RATE_PER_SECOND` is set; none otherwise. */
export function limiterFor(
  upstream: DomainApiSettings,
  store: BucketStore,
  clock: {
    now: () => number
    sleep: (ms: number) => Promise<void>
    random: () => number
  } = { now: Date.now, sleep, random: Math.random },
): UpstreamLimiter | undefined {
  const rate = upstream.rate
  if (!rate) return undefined
  return new SharedUpstreamLimiter({
    store,
    account: bucketAccountOf(upstream),
    settings: {
      ratePerSecond: rate.perSecond,
      burst: rate.burst,
      batch: rate.batch,
      slowForMs: rate.slowForMs,
    },
    ...clock,
  })
}
