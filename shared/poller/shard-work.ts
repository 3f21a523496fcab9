/**
 * How one scheduled poller run is split between workers: the due index's shards dealt out in
 * groups, one group per worker, each with the time its run must end by.
 *
 * Leases, not the split, keep two workers off one item: a group handed twice (a redelivered
 * message, two schedules overlapping) only means two runs racing for the same leases, which is
 * harmless. The split only spreads the work.
 */
import * as z from 'zod'

/** The most shards the due index may ever have had (the sweep reads them all, see DUE_SHARDS). */
export const MAX_SHARDS = 64

/** One worker's part of a run. */
export interface ShardWork {
  /** Due-index shards this worker drains, each in [0, MAX_SHARDS). */
  readonly shards: readonly number[]
  /** Epoch ms the run ends by: a worker that starts later works less, one that starts after it, not at all. */
  readonly notAfter: number
}

/** Where a run's parts go: a queue that parallel workers consume, or the process itself. */
export interface ShardQueue {
  hand(work: readonly ShardWork[]): Promise<void>
}

/**
 * The shards dealt round-robin into at most `workers` non-empty groups: every shard in exactly
 * one, group sizes differing by at most one.
 */
export function planShardWork(shardCount: number, workers: number, notAfter: number): ShardWork[] {
  const groups = Math.max(1, Math.min(workers, shardCount))
  const shards: number[][] = Array.from({ length: groups }, () => [])
  for (let shard = 0; shard < shardCount; shard++) shards[shard % groups]?.push(shard)
  return shards.map((group) => ({ shards: group, notAfter }))
}

const shardWorkSchema = z.strictObject({
  shards: z
    .array(
      z
        .number()
        .int()
        .min(0)
        .max(MAX_SHARDS - 1),
    )
    .min(1)
    .max(MAX_SHARDS)
    .refine((list) => new Set(list).size === list.length, 'a shard named twice'),
  notAfter: z.number().int().positive(),
})

/** A queued message's body as one worker's part, or why it is not one. */
export function parseShardWork(
  body: string,
): { ok: true; work: ShardWork } | { ok: false; reason: string } {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { ok: false, reason: 'not JSON' }
  }
  const parsed = shardWorkSchema.safeParse(json)
  if (!parsed.success) {
    return { ok: false, reason: parsed.error.issues.map((issue) => issue.message).join('; ') }
  }
  return { ok: true, work: parsed.data }
}

/** A message body for `work` (what `parseShardWork` reads). */
export function shardWorkBody(work: ShardWork): string {
  return JSON.stringify({ shards: work.shards, notAfter: work.notAfter })
}
