import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { toEpochSeconds } from '#shared/epoch.ts'
import { silentLogger } from '#shared/logger.ts'
import { processDueItem } from '#shared/poller/process-due-item.ts'
import type { DueItem } from '#shared/ports/due-item-store.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { DynamoDbDueItemStore } from '#shared/store/dynamodb-due-item-store.ts'
import type { Task } from '#shared/tasks/task.ts'
import { newTask } from '#shared/tasks/task-states.ts'
import { type Harness, postJson, startHarness } from './helpers/gateway.ts'
import { startRecordingProxy } from './helpers/recording-proxy.ts'

/**
 * A due item is claimed and read in one conditional update, and a drained poll costs two store
 * requests: the claim and the result.
 */
let h: Harness
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>
let items: DynamoDbDueItemStore<DueItem & { note?: string }>

beforeAll(async () => {
  h = await startHarness()
  proxy = await startRecordingProxy(h.env.DYNAMODB_ENDPOINT as string)
  const config = loadSettings({ ...h.env, DYNAMODB_ENDPOINT: proxy.endpoint })
  items = new DynamoDbDueItemStore(
    createDocumentClient(config.store),
    config.store.tableName,
    config.store.dueShards,
    'CLAIMTEST',
    'claimTest',
  )
})
afterAll(async () => {
  await proxy.close()
  await h.close()
})

const T0 = Date.parse('2026-11-23T12:00:00Z')
const lease = (owner: string, until: number) => ({ owner, until })

describe('claimLease', () => {
  it('takes a due, unleased item and returns it with the lease and the next version', async () => {
    await items.create({ id: 'free', version: 0, dueAt: T0, note: 'kept' })
    const claimed = await items.claim('free', lease('a', T0 + 1_000), T0)
    expect(claimed).toMatchObject({
      id: 'free',
      version: 2, // created at 1, claimed: 2
      dueAt: T0,
      note: 'kept',
      lease: { owner: 'a', until: T0 + 1_000 },
    })
    expect(claimed).not.toHaveProperty('pk')
    // A writer that read version 1 before the claim loses its race.
    expect(await items.replace({ id: 'free', version: 1, dueAt: T0 }, 1)).toBe(false)
  })

  it('refuses while a lease is live, even to its holder (two workers of one run); anyone may after it expires', async () => {
    await items.create({ id: 'held', version: 0, dueAt: T0 })
    expect(await items.claim('held', lease('a', T0 + 1_000), T0)).toBeDefined()
    expect(await items.claim('held', lease('b', T0 + 2_000), T0 + 999)).toBeUndefined()
    expect(await items.claim('held', lease('a', T0 + 2_000), T0 + 999)).toBeUndefined()
    expect(await items.claim('held', lease('b', T0 + 5_000), T0 + 1_000)).toMatchObject({
      lease: { owner: 'b' },
      version: 3,
    })
  })

  it('refuses what is not due, gone, expired or missing', async () => {
    await items.create({ id: 'later', version: 0, dueAt: T0 + 10_000 })
    expect(await items.claim('later', lease('a', T0 + 1_000), T0)).toBeUndefined()
    await items.create({ id: 'idle', version: 0 })
    expect(await items.claim('idle', lease('a', T0 + 1_000), T0)).toBeUndefined()
    await items.create({ id: 'expired', version: 0, dueAt: T0, expiresAt: toEpochSeconds(T0) })
    expect(await items.claim('expired', lease('a', T0 + 1_000), T0)).toBeUndefined()
    expect(await items.claim('missing', lease('a', T0 + 1_000), T0)).toBeUndefined()
    // ...and a refused claim wrote nothing.
    expect(await items.get('later', T0)).toMatchObject({ version: 1 })
    expect(await items.get('later', T0)).not.toHaveProperty('lease')
  })
})

describe('waking a queued task', () => {
  const queuedTask = (id: string, dueAt: number): Task => ({
    ...newTask(
      {
        tenant: 'wake',
        keyId: 'k',
        command: { action: 'ds.sync', domain: `${id}.example` },
        callbackUrl: undefined,
      },
      id,
      T0,
    ),
    status: 'queued',
    dueAt,
  })

  it('brings a task due later forward', async () => {
    await h.deps.tasks.create(queuedTask('tsk_wakelater', T0 + 60_000))
    await h.deps.tasks.nudge('tsk_wakelater', T0 + 10)
    expect(await h.deps.tasks.get('tsk_wakelater', T0)).toMatchObject({
      dueAt: T0 + 10,
      version: 2,
    })
  })

  it('is not lost while a poller holds the task on a decision made before the release', async () => {
    await h.deps.tasks.create(queuedTask('tsk_wakeheld', T0))
    // A poller claims the head and reads its domain as still held…
    const held = await h.deps.tasks.claim('tsk_wakeheld', lease('w', T0 + 60_000), T0 + 5)
    expect(held).toBeDefined()
    // …the holder releases the domain and wakes the head…
    await h.deps.tasks.nudge('tsk_wakeheld', T0 + 10)
    // …so the poller's "look again in a few seconds" loses its race,
    const stale = { ...(held as Task), dueAt: T0 + 5_000, lease: undefined }
    expect(await h.deps.tasks.replace(stale, (held as Task).version)).toBe(false)
    // and the task is due now and free for the next claim, not put off.
    const after = await h.deps.tasks.get('tsk_wakeheld', T0 + 20)
    expect(after?.dueAt).toBe(T0 + 10)
    expect(after?.lease).toBeUndefined()
    expect(await h.deps.tasks.claim('tsk_wakeheld', lease('x', T0 + 60_000), T0 + 20)).toBeDefined()
  })

  it('leaves a due, unleased task and a task that is not queued alone', async () => {
    await h.deps.tasks.create(queuedTask('tsk_wakedue', T0))
    await h.deps.tasks.nudge('tsk_wakedue', T0 + 10)
    expect(await h.deps.tasks.get('tsk_wakedue', T0)).toMatchObject({ dueAt: T0, version: 1 })
    await h.deps.tasks.create({ ...queuedTask('tsk_wakepending', T0 + 60_000), status: 'pending' })
    await h.deps.tasks.nudge('tsk_wakepending', T0 + 10)
    expect(await h.deps.tasks.get('tsk_wakepending', T0)).toMatchObject({
      dueAt: T0 + 60_000,
      version: 1,
    })
  })
})

describe('a drained poll', () => {
  it('costs two store requests: the claim (which reads) and the result', async () => {
    const submitted = await h.request('/domains/two-requests.example/ds/sync', postJson({}))
    expect(submitted.status).toBe(202)
    const { id } = (await submitted.json()) as { id: string }
    // A poller on the same table through the recording proxy, its clock past the task's due time.
    const env = { ...h.env, DYNAMODB_ENDPOINT: proxy.endpoint }
    const deps = buildPollerDeps(loadSettings(env), {
      logger: silentLogger,
      now: () => Date.now() + 60_000,
    })
    const before = proxy.operations.length
    expect(await processDueItem(deps, { kind: 'task', id })).toBe('polled')
    const used = proxy.operations.slice(before).map((operation) => operation.operation)
    expect(used).toEqual(['UpdateItem', 'PutItem'])
    const task = await h.deps.tasks.get(id, Date.now())
    expect(task?.lease).toBeUndefined()
    expect(task?.status).toMatch(/^(pending|running)$/)
    expect(task?.dueAt).toBeGreaterThan(Date.now() + 60_000)
  })
})
