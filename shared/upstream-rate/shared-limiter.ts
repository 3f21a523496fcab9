import type { BucketStore } from './bucket-store.ts'
import { type BucketSettings, slowDown, take } from './token-bucket.ts'

/** What the upstream client asks before each attempt, and tells after a throttling answer. */
export interface UpstreamLimiter {
  acquire(): Promise<void>
  throttled(): Promise<void>
}

export interface SharedLimiterDeps {
  readonly store: BucketStore
  /** Whose bucket: one per Alibaba Cloud account (a digest of its access key id). */
  readonly account: string
  readonly settings: BucketSettings & {
    /** Tokens taken from the shared bucket at once, then spent here (fewer store writes). */
    readonly batch: number
  }
  readonly now: () => number
  readonly sleep: (ms: number) => Promise<void>
  /** A number in [0, 1): spreads the waits of workers that found the bucket empty together. */
  readonly random: () => number
}

const MAX_WAIT_MS = 1_000

/**
 * The account's bucket kept in the table, shared by every worker: tokens are taken with a
 * conditional write (a lost race reads again), a few at a time and spent locally; with none left
 * it waits until the bucket refills, and up to half as long again, at random: workers that found it
 * empty together would otherwise wake together, and the one the machine schedules first would take
 * every refill (one worker starved, seen on a busy machine). A throttling answer slows the shared
 * bucket for everyone.
 */
export class SharedUpstreamLimiter implements UpstreamLimiter {
  #local = 0

  constructor(private readonly deps: SharedLimiterDeps) {}

  async acquire(): Promise<void> {
    for (;;) {
      if (this.#local > 0) {
        this.#local--
        return
      }
      const { store, account, settings, now } = this.deps
      const current = await store.read(account)
      const result = take(current?.state, now(), settings.batch, settings)
      if (!result.ok) {
        const wait = result.waitMs * (1 + this.deps.random() / 2)
        await this.deps.sleep(Math.min(MAX_WAIT_MS, Math.max(1, wait)))
        continue
      }
      if (await store.write(account, result.next, current?.version)) this.#local += result.granted
    }
  }

  async throttled(): Promise<void> {
    this.#local = 0
    const { store, account, settings, now } = this.deps
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await store.read(account)
      if (await store.write(account, slowDown(current?.state, now(), settings), current?.version))
        return
    }
  }
}
