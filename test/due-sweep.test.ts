import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { newEvent } from '#shared/events/webhook-event.ts'
import { silentLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { sweepDueIndex } from '#shared/poller/sweep-due-index.ts'
import { createStores } from '#shared/store/stores.ts'
import type { Task } from '#shared/tasks/task.ts'
import { newTask } from '#shared/tasks/task-states.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { DEFAULTS } from './helpers/settings.ts'

let p: Pipeline
beforeAll(async () => {
  p = await startPipeline()
})
afterAll(async () => {
  await p.closeAll()
})

it('a task left submitting without a due entry is found by the sweep and reconciled', async () => {
  // The Save* ran but its answer was lost, and then the task's due-index entry was lost too (as a
  // crash of an engine that writes an item and its index entries separately can leave it).
  p.emulator.faults.set([
    { kind: 'error5xx', count: 1, actions: ['SaveSingleTaskForSynchronizingDSRecord'] },
  ])
  const submitted = await p.submit('/domains/lost-index.com/ds/sync')
  const intent = await p.task(submitted.id)
  expect(intent.status).toBe('submitting')
  expect(await p.deps.tasks.replace({ ...intent, dueAt: undefined }, intent.version)).toBe(true)

  const withoutSweep = { ...p.pollerDeps(), sweepDueIndex: undefined }
  await runPoller(withoutSweep, Date.now() + 300)
  expect((await p.task(submitted.id)).status).toBe('submitting')

  const stores = createStores(loadSettings(p.env).store)
  const sweep = () =>
    sweepDueIndex({
      store: stores.dueSweep,
      now: Date.now,
      logger: silentLogger,
      settings: { ...DEFAULTS.dueSweep, owner: 'sweep-test', pageSize: 5 },
    })
  const first = await sweep()
  expect(first).toMatchObject({ repaired: 1, passDone: true })
  // One pass per interval: a second call right away does nothing.
  expect(await sweep()).toBeUndefined()

  await p.drainUntil(async () => (await p.task(submitted.id)).status === 'succeeded', {
    deps: withoutSweep,
  })
  expect(p.emulator.account.tasks.size).toBe(1)
})

it('the production poller wiring runs the sweep once per interval, claimed by one poller', async () => {
  const settings = loadSettings({ ...p.env, DUE_SWEEP_INTERVAL_MINUTES: '60' })
  const [a, b] = [0, 1].map(() => buildPollerDeps(settings, { logger: silentLogger }))
  // The first test's pass already ran on this table: the next one is an hour away.
  expect(await a?.sweepDueIndex?.()).toBeUndefined()
  expect(await b?.sweepDueIndex?.()).toBeUndefined()
})

it('reads only the open tasks: its reads do not grow with the finished tasks the table keeps', async () => {
  const q = await startPipeline()
  try {
    const stores = createStores(loadSettings(q.env).store)
    const hourAgo = Date.now() - 3_600_000
    const task = (id: string, status: Task['status'], dueAt?: number): Task => ({
      ...newTask(
        {
          tenant: 'sweep',
          keyId: 'k',
          command: { action: 'ds.sync', domain: `${id}.example` },
          callbackUrl: undefined,
        },
        id,
        hourAgo,
      ),
      status,
      dueAt,
      ...(status === 'succeeded' ? { completedAt: new Date(hourAgo).toISOString() } : {}),
    })
    const keepFinished = async (from: number, count: number) => {
      for (let i = from; i < from + count; i++) {
        expect(await stores.tasks.create(task(`tsk_done${i}`, 'succeeded'))).toBe(true)
      }
    }
    // Open work overdue by an hour (its due entries stand for lost ones): three tasks, a finished
    // task whose callback is still to be sent, and an event to deliver. Finished: 40 tasks and
    // an event kept with no URL.
    for (const id of ['tsk_open1', 'tsk_open2', 'tsk_open3']) {
      expect(await stores.tasks.create(task(id, 'queued', hourAgo))).toBe(true)
    }
    const unsent = task('tsk_unsent', 'succeeded', hourAgo)
    expect(
      await stores.tasks.create({
        ...unsent,
        callback: { url: 'https://hooks.example/x', state: 'scheduled', attempts: 0 },
      }),
    ).toBe(true)
    const event = (id: string, url: string | undefined) =>
      newEvent({
        id,
        tenant: 'sweep',
        keyId: 'k',
        type: 'dnssec.scan.failed',
        data: { domain: 'sweep.example' },
        url,
        at: hourAgo,
        retentionMs: 86_400_000,
      })
    expect(await stores.events.create(event('evt_open', 'https://hooks.example/x'))).toBe(true)
    expect(await stores.events.create(event('evt_kept', undefined))).toBe(true)
    await keepFinished(0, 40)
    const sweep = () =>
      sweepDueIndex({
        store: stores.dueSweep,
        now: Date.now,
        logger: silentLogger,
        settings: {
          ...DEFAULTS.dueSweep,
          owner: 'reads-test',
          pageSize: 7,
          intervalMs: 0,
        },
      })
    expect(await sweep()).toEqual({ examined: 5, scanned: 5, repaired: 5, passDone: true })
    // Rewritten, each is in the due index again: the poller's reads find them.
    const due = (
      await Promise.all(
        Array.from({ length: stores.tasks.shardCount }, (_, shard) =>
          stores.tasks.dueItems(shard, Date.now(), 100),
        ),
      )
    )
      .flat()
      .map((due) => due.id)
    expect(due.sort()).toEqual(['evt_open', 'tsk_open1', 'tsk_open2', 'tsk_open3', 'tsk_unsent'])
    // Five times the history: the next pass reads the same five open items, and nothing else
    // (still overdue, as no poller took them here: rewritten again).
    await keepFinished(40, 160)
    expect(await sweep()).toEqual({ examined: 5, scanned: 5, repaired: 5, passDone: true })
    // A task that finishes leaves the open index with the write that ends it.
    const open = (await stores.tasks.get('tsk_open1', Date.now())) as Task
    expect(
      await stores.tasks.replace({ ...open, status: 'succeeded', dueAt: undefined }, open.version),
    ).toBe(true)
    expect(await sweep()).toMatchObject({ examined: 4 })
  } finally {
    await q.closeAll()
  }
})

it('finds open work written while there were more shards, and moves it into the current ones', async () => {
  const q = await startPipeline()
  try {
    const wide = createStores(loadSettings({ ...q.env, DUE_SHARDS: '16' }).store)
    const narrow = createStores(loadSettings({ ...q.env, DUE_SHARDS: '4' }).store)
    const hourAgo = Date.now() - 3_600_000
    // Tasks in shards 4..15 of sixteen: four shards never read them.
    const ids = Array.from({ length: 12 }, (_, i) => `tsk_wide${i}`)
    for (const id of ids) {
      const task: Task = {
        ...newTask(
          {
            tenant: 'wide',
            keyId: 'k',
            command: { action: 'ds.sync', domain: `${id}.example` },
            callbackUrl: undefined,
          },
          id,
          hourAgo,
        ),
        dueAt: hourAgo,
      }
      expect(await wide.tasks.create(task)).toBe(true)
    }
    const dueIn = async (stores: typeof narrow) =>
      (
        await Promise.all(
          Array.from({ length: stores.tasks.shardCount }, (_, shard) =>
            stores.tasks.dueItems(shard, Date.now(), 100),
          ),
        )
      )
        .flat()
        .map((due) => due.id)
    const before = await dueIn(narrow)
    expect(before.length).toBeLessThan(12)
    const result = await sweepDueIndex({
      store: narrow.dueSweep,
      now: Date.now,
      logger: silentLogger,
      settings: { ...DEFAULTS.dueSweep, owner: 'shards-test', intervalMs: 0 },
    })
    expect(result).toMatchObject({ examined: 12, passDone: true })
    expect((await dueIn(narrow)).sort()).toEqual([...ids].sort())
  } finally {
    await q.closeAll()
  }
})
