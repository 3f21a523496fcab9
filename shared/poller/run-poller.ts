import type { DueItem } from '../tasks/task-store.ts'
import { DeliveryLanes, inTurns } from './delivery-lanes.ts'
import type { DeliveryHandOff, PollerDeps, ProcessOutcome, WaitingCallback } from './poller-deps.ts'
import { processDueItem } from './process-due-item.ts'

export interface PollerRunStats {
  readonly rounds: number
  readonly outcomes: Partial<Record<ProcessOutcome, number>>
  readonly throttledPauses: number
}

/**
 * The shards' due ids, oldest of each first, taken in turn: a round that runs out of time has
 * worked on every shard's oldest items, so items that fall due again and again in one shard
 * (queued tasks looking for their turn) cannot starve another shard's.
 */
function interleave(lists: readonly (readonly DueItem[])[]): DueItem[] {
  const out: DueItem[] = []
  const longest = Math.max(0, ...lists.map((list) => list.length))
  for (let index = 0; index < longest; index++) {
    for (const list of lists) {
      const item = list[index]
      if (item !== undefined) out.push(item)
    }
  }
  return out
}

/** Runs `work` over `items` with at most `limit` at once. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  })
  await Promise.all(workers)
}

/**
 * While lanes are busy and callbacks wait for them: each time a delivery ends, start the waiting
 * callbacks that can now take a lane (reserved synchronously, then read and claimed). Returns when
 * nothing waits, nothing is in flight, the run's time is up, or lanes are free that no waiting
 * callback may take (so the run reads the due index again for other tenants' work).
 */
async function feedWaitingCallbacks(
  deps: PollerDeps,
  handOff: DeliveryHandOff,
  waiting: Map<string, WaitingCallback>,
  timeLeft: () => number,
  count: (outcome: ProcessOutcome) => void,
): Promise<void> {
  while (waiting.size > 0 && handOff.lanes.size > 0 && timeLeft() > 0) {
    await Promise.race([
      handOff.lanes.anyDone(),
      deps.sleep(Math.min(deps.settings.idleWaitMs, Math.max(0, timeLeft()))),
    ])
    const now = deps.now()
    const ready: DueItem[] = []
    // Tenants take turns for the free lanes, the one with the fewest in flight first.
    for (const [id, { url, tenant, item }] of inTurns(waiting, (t) =>
      handOff.lanes.inFlightOf(t),
    )) {
      if (handOff.lanes.pausedUntil(url) > now) continue
      if (!handOff.lanes.reserve(id, url, tenant)) continue
      waiting.delete(id)
      ready.push(item)
    }
    // Lanes are free but none of the waiting callbacks may take one (their tenant or endpoint has
    // its share): other work may be due — another tenant's callback among it. Let the run look.
    if (ready.length === 0 && handOff.lanes.size < deps.settings.callbackConcurrency) return
    await Promise.all(
      ready.map(async (item) => {
        const outcome = await processDueItem(deps, item, handOff).catch(() => 'error' as const)
        count(outcome)
      }),
    )
  }
}

/** What the once-a-run housekeeping needs. */
type Housekeeping = Pick<PollerDeps, 'tasks' | 'now' | 'logger' | 'sweepDueIndex' | 'metrics'>

/** Most due items counted per shard for the backlog metric (one page of keys). */
const BACKLOG_COUNT_LIMIT = 1_000

/** The run's `DueBacklog` and `OldestDueAgeSeconds` (0 when nothing is due). */
async function measureBacklog(deps: Housekeeping): Promise<void> {
  const store = deps.tasks
  if (!deps.metrics || !store.dueBacklog) return
  const now = deps.now()
  const shards = await Promise.all(
    Array.from({ length: store.shardCount }, (_, shard) =>
      store.dueBacklog?.(shard, now, BACKLOG_COUNT_LIMIT),
    ),
  )
  let count = 0
  let oldest = now
  for (const shard of shards) {
    count += shard?.count ?? 0
    if (shard?.oldestDueAt !== undefined) oldest = Math.min(oldest, shard.oldestDueAt)
  }
  deps.metrics.add('DueBacklog', count)
  deps.metrics.add('OldestDueAgeSeconds', Math.max(0, (now - oldest) / 1000), { unit: 'Seconds' })
}

/**
 * What one scheduled run does once before any work, whichever worker drains which shards: the
 * due-index sweep (itself leased and hourly) and the backlog metrics. Failures are logged only.
 */
export async function runHousekeeping(deps: Housekeeping): Promise<void> {
  await deps.sweepDueIndex?.().catch((error: unknown) => {
    deps.logger.warn('the due-index sweep failed; the next run tries again', { error })
  })
  await measureBacklog(deps).catch((error: unknown) => {
    deps.logger.warn('could not measure the due backlog', { error })
  })
}

/**
 * One scheduled run, or one worker's part of it: reads due ids from its shards of the sparse due
 * index (never a scan), works on them with bounded concurrency, and keeps draining — waiting
 * briefly while work falls due within the budget — until `deadline` (epoch ms); it stops early
 * when nothing is left. Upstream throttling pauses the whole run with growing waits; the
 * throttled tasks stay due.
 */
export async function runPoller(
  deps: PollerDeps,
  deadline: number,
  options: {
    /** When the process is stopped for good; by default the deadline plus one callback timeout. */
    readonly hardStop?: number
    /**
     * The due-index shards to drain (a worker's part of a fanned-out run, see shard-work.ts),
     * without the housekeeping its dispatcher did; by default every shard, housekeeping first.
     */
    readonly shards?: readonly number[]
  } = {},
): Promise<PollerRunStats> {
  const outcomes: Partial<Record<ProcessOutcome, number>> = {}
  let rounds = 0
  let throttledPauses = 0
  let throttleWait = 1_000
  const timeLeft = () => deadline - deps.now()
  // Callbacks go out on their own lanes: a slow receiver never holds a polling round back.
  // Callbacks found waiting for a lane, by task id: not read again until their endpoint has room.
  const waitingForLane = new Map<string, WaitingCallback>()
  const handOff: DeliveryHandOff = {
    lanes: new DeliveryLanes({
      concurrency: deps.settings.callbackConcurrency,
      perEndpoint: deps.settings.callbackPerEndpoint,
      perTenant: deps.settings.callbackPerTenant,
    }),
    hardStop: options.hardStop ?? deadline + deps.settings.callbackTimeoutMs,
    onDone: (outcome) => {
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
    },
    onLanesFull: (taskId, waiting) => waitingForLane.set(taskId, waiting),
  }
  if (options.shards === undefined) await runHousekeeping(deps)
  // A part handed over by a dispatcher names shards; those the index no longer has (DUE_SHARDS
  // lowered since) are left to the sweep, which moves their items into the current ones.
  const shards = (
    options.shards ?? Array.from({ length: deps.tasks.shardCount }, (_, shard) => shard)
  ).filter((shard) => shard < deps.tasks.shardCount)
  while (timeLeft() > 0 && shards.length > 0) {
    rounds++
    const now = deps.now()
    const items = interleave(
      await Promise.all(
        shards.map((shard) => deps.tasks.dueItems(shard, now, deps.settings.batchSize)),
      ),
    )
    if (items.length === 0) {
      // Nothing due now: wait only if something falls due within this run's budget, else stop,
      // so an idle gateway costs one short invocation a minute.
      const upcoming = await Promise.all(
        shards.map((shard) => deps.tasks.dueItems(shard, deadline, 1)),
      )
      if (upcoming.every((found) => found.length === 0)) break
      await deps.sleep(Math.min(deps.settings.idleWaitMs, Math.max(0, timeLeft())))
      continue
    }
    let throttled = false
    let progressed = false
    let lanesFull = false
    await eachLimited(items, deps.settings.concurrency, async (item) => {
      const { id } = item
      // Stop taking new work once the budget is spent or upstream asked us to slow down.
      if (throttled || timeLeft() <= 0) return
      const waiting = waitingForLane.get(id)
      if (waiting !== undefined) {
        // Take its lane now, synchronously, before reading it: when one lane frees, one waiting
        // task goes, and the others are not read again for nothing.
        const paused = handOff.lanes.pausedUntil(waiting.url) > deps.now()
        if (paused || !handOff.lanes.reserve(id, waiting.url, waiting.tenant)) {
          lanesFull = true
          return
        }
        waitingForLane.delete(id)
      }
      const outcome = await processDueItem(deps, item, handOff).catch((error: unknown) => {
        // The claim itself failed (e.g. the store is unreachable): the task stays due.
        deps.logger.warn('could not work on a due task', { taskId: id, error })
        return 'error' as const
      })
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      if (outcome === 'throttled') throttled = true
      else if (outcome === 'lanes-full') lanesFull = true
      else if (outcome !== 'skipped' && outcome !== 'lost' && outcome !== 'deferred')
        progressed = true
    })
    if (lanesFull && !throttled) {
      // Callbacks wait for lanes. Feed each freed lane from the waiting list this round built,
      // without querying the due index again, until no waiting callback can go.
      await feedWaitingCallbacks(deps, handOff, waitingForLane, timeLeft, (outcome) => {
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      })
    } else if (!throttled && !progressed) {
      // Everything due is leased by another run (or just moved): look again shortly.
      await deps.sleep(Math.min(deps.settings.idleWaitMs, Math.max(0, timeLeft())))
    }
    if (throttled) {
      throttledPauses++
      deps.logger.warn('upstream throttling; pausing the run', { waitMs: throttleWait })
      await deps.sleep(Math.min(throttleWait, Math.max(0, timeLeft())))
      throttleWait = Math.min(throttleWait * 2, 30_000)
    } else {
      throttleWait = 1_000
    }
  }
  await handOff.lanes.drain()
  return { rounds, outcomes, throttledPauses }
}
