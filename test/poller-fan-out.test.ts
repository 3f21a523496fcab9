import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadSettings } from '#shared/composition/settings.ts'
import { dispatchPollerRun } from '#shared/poller/dispatch-run.ts'
import { InProcessShardQueue } from '#shared/poller/in-process-shard-queue.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import { planShardWork, type ShardWork, shardWorkBody } from '#shared/poller/shard-work.ts'
import { workShardMessage } from '#shared/poller/shard-worker.ts'
import { shardOf } from '#shared/store/shard.ts'
import { createStores } from '#shared/store/stores.ts'
import { isTerminal } from '#shared/tasks/task.ts'
import { TEST_DYNAMODB_ENGINE } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { expectEachStepOnce, recordTransitions } from './helpers/task-store-wrapper.ts'

/**
 * A scheduled run fanned out to workers (see shared/poller/shard-work.ts): each worker drains
 * only the shards handed to it, and overlapping runs racing over the same shards do every step
 * once. The SQS path itself (the packaged dispatcher and worker on moto's SQS) is in bundles.test.ts.
 */
let p: Pipeline
beforeAll(async () => {
  p = await startPipeline({ emulatorTaskMs: 20 })
})
afterAll(() => p.closeAll())
beforeEach(() => {
  p.receiver.reply = () => ({ status: 204 })
})

// moto answers each due-index query far more slowly: its runs get a longer budget.
const moto = TEST_DYNAMODB_ENGINE === 'moto'
const RUN_MS = moto ? 400 : 150
const DRAIN_MS = moto ? 40_000 : 15_000

async function submitMany(prefix: string, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++)
    ids.push((await p.submit(`/domains/${prefix}-${i}.com/ds/sync`)).id)
  return ids
}

const delivered = async (ids: readonly string[]) =>
  (await Promise.all(ids.map((id) => p.task(id)))).every(
    (task) => task.callback.state === 'delivered',
  )

/** Hands `part` to a worker, again and again (each a short run), until `done` or the bound. */
async function workUntil(deps: PollerDeps, part: ShardWork, done: () => Promise<boolean>) {
  const bound = Date.now() + DRAIN_MS
  while (!(await done()) && Date.now() < bound) {
    const body = shardWorkBody({ shards: part.shards, notAfter: Date.now() + RUN_MS })
    await workShardMessage(deps, body, {
      deadline: Date.now() + 10_000,
      hardStop: Date.now() + 20_000,
    })
  }
}

describe('a poller run fanned out to workers', () => {
  it("a worker drains only the shards handed to it; the other part's tasks wait for theirs", async () => {
    const deps = p.pollerDeps()
    const [first, second] = planShardWork(deps.tasks.shardCount, 2, 0) as [ShardWork, ShardWork]
    const partOf = (id: string) =>
      first.shards.includes(shardOf(id, deps.tasks.shardCount)) ? 'first' : 'second'
    // Enough tasks that each part has some (ids are random; keep submitting until so).
    const ids = await submitMany('handoff', 8)
    for (let i = 0; ids.filter((id) => partOf(id) === 'second').length < 2; i++) {
      ids.push(...(await submitMany(`handoff-more-${i}`, 2)))
    }
    for (let i = 0; ids.filter((id) => partOf(id) === 'first').length < 2; i++) {
      ids.push(...(await submitMany(`handoff-extra-${i}`, 2)))
    }
    const mine = ids.filter((id) => partOf(id) === 'first')
    const theirs = ids.filter((id) => partOf(id) === 'second')

    await workUntil(deps, first, () => delivered(mine))
    expect(await delivered(mine)).toBe(true)
    // The upstream tasks of the other part finished long ago; no worker of theirs has run.
    for (const id of theirs) {
      const task = await p.task(id)
      expect(isTerminal(task.status), `${id} ${task.status}`).toBe(false)
      expect(task.callback.state, id).toBe('none')
    }

    await workUntil(p.pollerDeps(), second, () => delivered(theirs))
    expect(await delivered(theirs)).toBe(true)
    const counts = p.receiver.countsById()
    for (const id of ids) expect(counts.get(`msg_${id}`), id).toBe(1)
  })

  it('two scheduled runs overlapping, each fanned out to two workers: each step and each callback exactly once', async () => {
    const ids = await submitMany('overlap', 16)
    const transitions = new Map<string, string[]>()
    const runner = () => {
      const deps = p.pollerDeps({}, { concurrency: 8 })
      const watched = { ...deps, tasks: recordTransitions(deps.tasks, transitions) }
      return { deps: watched, queue: new InProcessShardQueue(watched) }
    }
    const [a, b] = [runner(), runner()]
    const bound = Date.now() + DRAIN_MS
    while (!(await delivered(ids)) && Date.now() < bound) {
      await Promise.all(
        [a, b].map(({ deps, queue }) =>
          dispatchPollerRun(deps, queue, { workers: 2, runMs: RUN_MS }),
        ),
      )
      // Each run handed out every shard, in two parts, both drained in this process.
      for (const { queue } of [a, b]) expect(queue.lastRuns).toHaveLength(2)
    }
    expect(await delivered(ids)).toBe(true)
    expectEachStepOnce(ids, transitions, p.receiver.countsById())
  })

  it('after DUE_SHARDS grows, workers planned over the new count still drain what was written under the old', async () => {
    const ids = await submitMany('grown', 6)
    const before = p.pollerDeps()
    const grownStores = createStores(
      loadSettings({ ...p.env, DUE_SHARDS: String(before.tasks.shardCount * 2) }).store,
    )
    const deps = { ...before, tasks: grownStores.tasks }
    const queue = new InProcessShardQueue(deps)
    const bound = Date.now() + DRAIN_MS
    while (!(await delivered(ids)) && Date.now() < bound) {
      await dispatchPollerRun(deps, queue, { workers: 4, runMs: RUN_MS })
      expect(queue.lastRuns).toHaveLength(4)
    }
    expect(await delivered(ids)).toBe(true)
  })

  it('a part that arrives after its run, names no current shard, or is not one touches nothing', async () => {
    const [id] = await submitMany('dropped', 1)
    const deps = p.pollerDeps()
    const shard = shardOf(id as string, deps.tasks.shardCount)
    const limits = { deadline: Date.now() + 10_000, hardStop: Date.now() + 20_000 }
    const late = await workShardMessage(
      deps,
      shardWorkBody({ shards: [shard], notAfter: Date.now() - 1 }),
      limits,
    )
    expect(late).toEqual({ ran: false, reason: 'its run is over' })
    const garbage = await workShardMessage(deps, '{"shards":"all"}', limits)
    expect(garbage.ran).toBe(false)
    // A shard the index no longer has (DUE_SHARDS lowered since the part was made): the sweep
    // moves its items; the worker reads nothing.
    const gone = await workShardMessage(
      deps,
      shardWorkBody({ shards: [deps.tasks.shardCount], notAfter: Date.now() + 5_000 }),
      limits,
    )
    expect(gone).toMatchObject({ ran: true, stats: { rounds: 0 } })
    const task = await p.task(id as string)
    expect(isTerminal(task.status)).toBe(false)
    expect(task.lease).toBeUndefined()
    // Its own shard's part, in time, does the work.
    await workUntil(deps, { shards: [shard], notAfter: 0 }, () => delivered([id as string]))
    expect(await delivered([id as string])).toBe(true)
  })
})
