import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import { loadGatewayConfig } from '#shared/config/gateway-config.ts'
import { loadWorkerConfig } from '#shared/config/worker-config.ts'
import { silentLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { DEFAULT_DUE_SWEEP_SETTINGS, sweepDueIndex } from '#shared/poller/sweep-due-index.ts'
import { createStores } from '#shared/store/stores.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

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

  const stores = createStores(loadGatewayConfig(p.env).store)
  const sweep = () =>
    sweepDueIndex({
      tasks: stores.tasks,
      store: stores.dueSweep,
      now: Date.now,
      logger: silentLogger,
      settings: { ...DEFAULT_DUE_SWEEP_SETTINGS, owner: 'sweep-test', pageSize: 5 },
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
  const gateway = loadGatewayConfig(p.env)
  const worker = loadWorkerConfig({ ...p.env, DUE_SWEEP_INTERVAL_MINUTES: '60' })
  const [a, b] = [0, 1].map(() => buildPollerDeps(gateway, worker, { logger: silentLogger }))
  // The first test's pass already ran on this table: the next one is an hour away.
  expect(await a?.sweepDueIndex?.()).toBeUndefined()
  expect(await b?.sweepDueIndex?.()).toBeUndefined()
})
