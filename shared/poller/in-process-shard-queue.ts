/**
 * The queue when there is none: each part of a run is drained in this process, side by side, and
 * `hand` returns when all are done. `npm start` and a deployment without POLLER_QUEUE_URL use it.
 */
import type { PollerDeps } from './poller-deps.ts'
import { type PollerRunStats, runPoller } from './run-poller.ts'
import type { ShardQueue, ShardWork } from './shard-work.ts'

export class InProcessShardQueue implements ShardQueue {
  /** What each part of the last run did, in the order handed. */
  lastRuns: PollerRunStats[] = []

  constructor(
    private readonly deps: PollerDeps,
    /** When this process is stopped for good (a Lambda's end); default: see runPoller. */
    private readonly hardStop?: number,
  ) {}

  async hand(work: readonly ShardWork[]): Promise<void> {
    this.lastRuns = await Promise.all(
      work.map((part) =>
        runPoller(this.deps, part.notAfter, { shards: part.shards, hardStop: this.hardStop }),
      ),
    )
  }
}
