/**
 * A scheduled run fanned out: the housekeeping once, then the due index's shards dealt into one
 * part per worker and handed to a queue — SQS with a Lambda consumer in the packaged template, the
 * process itself under `npm start` or without a queue (see in-process-shard-queue.ts).
 */
import type { PollerDeps } from './poller-deps.ts'
import { runHousekeeping } from './run-poller.ts'
import { planShardWork, type ShardQueue } from './shard-work.ts'

export interface DispatchSettings {
  /** Workers the run is split between (capped at the shard count). */
  readonly workers: number
  /** How long each part may run from now. */
  readonly runMs: number
}

export async function dispatchPollerRun(
  deps: Pick<PollerDeps, 'tasks' | 'now' | 'logger' | 'sweepDueIndex' | 'metrics'>,
  queue: ShardQueue,
  settings: DispatchSettings,
): Promise<{ parts: number }> {
  await runHousekeeping(deps)
  const work = planShardWork(
    deps.tasks.shardCount,
    settings.workers,
    deps.now() + Math.max(0, settings.runMs),
  )
  await queue.hand(work)
  return { parts: work.length }
}
