/**
 * A worker's side of a fanned-out run: one queued part, checked, then drained until its end or
 * the invocation's, whichever is sooner. A part that is not one, or whose run is over (a message
 * delivered late or again), is dropped: the next scheduled run hands out every shard anew.
 */
import type { PollerDeps } from './poller-deps.ts'
import { type PollerRunStats, runPoller } from './run-poller.ts'
import { parseShardWork } from './shard-work.ts'

export type ShardWorkOutcome =
  | { readonly ran: true; readonly shards: readonly number[]; readonly stats: PollerRunStats }
  | { readonly ran: false; readonly reason: string }

export async function workShardMessage(
  deps: PollerDeps,
  body: string,
  limits: {
    /** The latest the run may take new work (the invocation's end less a safety margin). */
    readonly deadline: number
    /** When the invocation is stopped for good. */
    readonly hardStop: number
  },
): Promise<ShardWorkOutcome> {
  const parsed = parseShardWork(body)
  if (!parsed.ok) {
    deps.logger.warn('dropped a queued poller part that is not one', { reason: parsed.reason })
    return { ran: false, reason: parsed.reason }
  }
  const { shards, notAfter } = parsed.work
  const deadline = Math.min(notAfter, limits.deadline)
  if (deadline <= deps.now()) {
    deps.logger.info('dropped a queued poller part whose run is over', { shards, notAfter })
    return { ran: false, reason: 'its run is over' }
  }
  const stats = await runPoller(deps, deadline, { shards, hardStop: limits.hardStop })
  return { ran: true, shards, stats }
}
