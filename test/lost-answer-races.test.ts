import { afterAll, beforeAll, expect, it } from 'vitest'
import { loadSettings } from '#shared/composition/settings.ts'
import { keyedTaskId } from '#shared/ids.ts'
import { createStores } from '#shared/store/stores.ts'
import { upstreamTasksFor } from './helpers/emulator.ts'
import { localDynamoDb } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { type StoreFaultProxy, startStoreFaultProxy } from './helpers/store-fault-proxy.ts'

/**
 * The worst lost answer: a write made, its answer lost, and the item written again by someone
 * else before the SDK's retry — the retry meets another writer's id and the write reads as lost.
 * The gateway must still do what its write committed it to, without waiting for the absence proof
 * (a minute here, ~18 minutes in production): a queued task's intent is sent, and a final task's
 * domain goes to the next in line.
 */
const ATTEMPTS = 3
let p: Pipeline
let proxy: StoreFaultProxy
let direct: ReturnType<typeof createStores>

beforeAll(async () => {
  const db = await localDynamoDb()
  proxy = await startStoreFaultProxy(db.endpoint)
  p = await startPipeline({
    emulatorTaskMs: 50,
    // Three attempts a write (not five): a write failed outright costs less of the test's time.
    env: { DYNAMODB_ENDPOINT: proxy.url, DYNAMODB_MAX_ATTEMPTS: String(ATTEMPTS) },
  })
  direct = createStores({ ...loadSettings(p.env).store, endpoint: db.endpoint })
})
afterAll(async () => {
  await p.closeAll()
  await proxy.close()
})

/** Another writer: the task written again as it stands (its version moves on, its write id changes). */
const rewrite = (id: string) => async () => {
  const task = await direct.tasks.get(id, Date.now())
  if (!task) throw new Error(`no task ${id}`)
  if (!(await direct.tasks.replace(task, task.version))) throw new Error('the rewrite lost')
}

const succeeded = (ids: readonly string[]) => async () =>
  (await Promise.all(ids.map((id) => p.task(id)))).every((task) => task.status === 'succeeded')

it("a queued task's intent made, its answer lost and the task rewritten before the retry: sent at once", async () => {
  const first = await p.submit('/domains/intent-race.com/ds/sync')
  const second = await p.submit('/domains/intent-race.com/ds/sync')
  expect(second.body.status).toBe('queued')
  // The second task's intent is the first write of it that carries a sendBy.
  proxy.failNext('applied-then-500', 'PutItem', [second.id, 'sendBy'], rewrite(second.id))
  await p.drainUntil(succeeded([first.id, second.id]))
  expect(proxy.pendingScript).toBe(0)
  expect(upstreamTasksFor(p.emulator, 'intent-race.com')).toHaveLength(2)
})

it("a keyed request's intent made, its answer lost and the task rewritten before the retry: answered 202 at once, sent once", async () => {
  const key = 'keyed-intent-race'
  const id = keyedTaskId('pipeline', key)
  // The key's first write, the intent, is made; its answer is lost; a poller's claim (here: any
  // other writer) rewrites the task before the SDK's retry meets it.
  proxy.failNext('applied-then-500', 'PutItem', [id, 'sendBy'], rewrite(id))
  const answer = await p.submit('/domains/keyed-intent-race.com/ds/sync', {
    method: 'POST',
    headers: { 'idempotency-key': key },
  })
  expect(answer.status).toBe(202)
  expect(answer.id).toBe(id)
  expect(proxy.pendingScript).toBe(0)
  await p.drainUntil(succeeded([id]))
  expect(upstreamTasksFor(p.emulator, 'keyed-intent-race.com')).toHaveLength(1)
})

it('a final save made, its answer lost and the task rewritten before the retry: the next in line goes at once', async () => {
  const first = await p.submit('/domains/final-race.com/ds/sync')
  const second = await p.submit('/domains/final-race.com/ds/sync')
  expect(second.body.status).toBe('queued')
  // The first task's save that makes it final reads as lost: its release never runs.
  proxy.failNext('applied-then-500', 'PutItem', [first.id, '"succeeded"'], rewrite(first.id))
  await p.drainUntil(succeeded([first.id, second.id]))
  expect(proxy.pendingScript).toBe(0)
  expect(upstreamTasksFor(p.emulator, 'final-race.com')).toHaveLength(2)
})

it("a busy domain's hand-off to `queued` failed outright (503): the intent, never sent, is settled once its send window has passed, not at the absence horizon", async () => {
  const first = await p.submit('/domains/handoff-failed.com/ds/sync')
  // The second finds the domain busy, places its ticket, and every attempt to record it `queued`
  // is throttled: the request answers 503 and its intent stays, holding nothing.
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    proxy.failNext('throttled', 'PutItem', ['handoff-failed.com', '"queued"'])
  }
  const second = await p.submit('/domains/handoff-failed.com/ds/sync', {
    method: 'POST',
    headers: { 'idempotency-key': 'handoff-failed' },
  })
  expect(second.status).toBe(503)
  expect(proxy.pendingScript).toBe(0)
  const secondId = keyedTaskId('pipeline', 'handoff-failed')
  expect((await p.task(secondId)).status).toBe('submitting')
  // Never answered 202: rejected as never sent, its key freed, well before the absence horizon
  // (a minute after its send window here); the first goes on meanwhile, and the domain is free.
  await p.drainUntil(async () => (await p.task(secondId)).status === 'rejected')
  expect(await p.task(secondId)).toMatchObject({
    error: { code: 'NotSubmitted' },
    idempotency: { freed: true },
  })
  await p.drainUntil(succeeded([first.id]))
  const third = await p.submit('/domains/handoff-failed.com/ds/sync')
  await p.drainUntil(succeeded([third.id]))
  expect(upstreamTasksFor(p.emulator, 'handoff-failed.com')).toHaveLength(2)
})
