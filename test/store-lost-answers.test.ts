import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadSettings } from '#shared/composition/settings.ts'
import type { Metrics } from '#shared/metrics.ts'
import { createDocumentClient, getItem, writeConditionally } from '#shared/store/dynamodb.ts'
import { createStores } from '#shared/store/stores.ts'
import { ticketOf } from '#shared/tasks/target-locks.ts'
import type { Task } from '#shared/tasks/task.ts'
import { newTask } from '#shared/tasks/task-states.ts'
import { type Harness, startHarness } from './helpers/gateway.ts'
import {
  type StoreFault,
  type StoreFaultProxy,
  startStoreFaultProxy,
} from './helpers/store-fault-proxy.ts'

/**
 * A write DynamoDB applies but whose answer is lost (a 500, a reset connection) is sent again by
 * the SDK; the retry meets the write already made and its condition fails. Every kind of write the
 * gateway makes is put through that here — through a proxy that lets the engine apply it and then
 * loses the answer — and must come back as made, with its effect once. A write that really lost
 * its race still comes back as lost.
 */
let h: Harness
let proxy: StoreFaultProxy
let stores: ReturnType<typeof createStores>
let direct: ReturnType<typeof createStores>
/** A client of the engine itself, for what no store reads. */
let rawDb: ReturnType<typeof createDocumentClient>
const recovered: string[] = []
const metrics: Metrics = {
  add: (name, _value, options) => {
    if (name === 'StoreWritesRecovered') recovered.push(String(options?.dimensions?.Operation))
  },
  flush: () => {},
}

beforeAll(async () => {
  h = await startHarness()
  proxy = await startStoreFaultProxy(h.env.DYNAMODB_ENDPOINT as string)
  const config = loadSettings(h.env).store
  stores = createStores({ ...config, endpoint: proxy.url }, metrics)
  direct = createStores(config)
  rawDb = createDocumentClient(config)
})
afterAll(async () => {
  await proxy.close()
  await h.close()
})
beforeEach(() => {
  recovered.length = 0
  proxy.resetCounts()
})

const NOW = Date.parse('2026-12-07T12:00:00Z')
let sequence = 0
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${++sequence}`

function aTask(id = unique('tsk_')): Task {
  return newTask(
    {
      tenant: 'alpha',
      keyId: 'key_1',
      command: { action: 'ds.sync', domain: `${id}.com` },
      callbackUrl: undefined,
    },
    id,
    NOW,
  )
}

/** The answer of the next write of `operation` is lost after the engine applied it. */
function loseNextAnswer(fault: StoreFault, operation: string, bodyContains?: string) {
  proxy.failNext(fault, operation, bodyContains)
}

/** The scripted fault was used, and the write was recognised as made once. */
function expectRecovered(fault: StoreFault, operation: string) {
  expect(proxy.pendingScript).toBe(0)
  expect(proxy.faults.get(fault)).toBe(1)
  expect(recovered).toEqual([operation])
}

const LOSSES: StoreFault[] = ['applied-then-500', 'applied-then-reset']

describe.each(LOSSES)('a write applied and its answer lost (%s) is taken as made', (fault) => {
  it('task create (the key-less intent)', async () => {
    const task = aTask()
    loseNextAnswer(fault, 'PutItem', task.id)
    expect(await stores.tasks.create(task)).toBe(true)
    expectRecovered(fault, 'PutItem')
    expect((await direct.tasks.get(task.id, NOW))?.version).toBe(task.version)
  })

  it('task createOrGet (a keyed intent and the key claim): created, not the key in use', async () => {
    const task = aTask()
    loseNextAnswer(fault, 'PutItem', task.id)
    expect(await stores.tasks.createOrGet(task, NOW)).toEqual({ created: true })
    expectRecovered(fault, 'PutItem')
  })

  it('task replace (a transition, the final save, the hand-off to submitting)', async () => {
    const task = aTask()
    await direct.tasks.create(task)
    loseNextAnswer(fault, 'PutItem', task.id)
    const next = { ...task, status: 'succeeded' as const }
    expect(await stores.tasks.replace(next, task.version)).toBe(true)
    expectRecovered(fault, 'PutItem')
    const stored = await direct.tasks.get(task.id, NOW)
    expect(stored).toMatchObject({ status: 'succeeded', version: task.version + 1 })
    expect(stored).not.toHaveProperty('writeId')
  })

  it('task remove (an intent taken back)', async () => {
    const task = aTask()
    await direct.tasks.create(task)
    loseNextAnswer(fault, 'DeleteItem', task.id)
    expect(await stores.tasks.remove(task.id, task.version)).toBe(true)
    expect(proxy.faults.get(fault)).toBe(1)
    expect(await direct.tasks.get(task.id, NOW)).toBeUndefined()
  })

  it('lease claim: the task comes back with its lease', async () => {
    const task = { ...aTask(), dueAt: NOW - 1 }
    await direct.tasks.create(task)
    loseNextAnswer(fault, 'UpdateItem', task.id)
    const claimed = await stores.tasks.claim(task.id, { owner: 'me', until: NOW + 60_000 }, NOW)
    expectRecovered(fault, 'UpdateItem')
    expect(claimed).toMatchObject({
      id: task.id,
      lease: { owner: 'me' },
      version: task.version + 1,
    })
    expect(claimed).not.toHaveProperty('writeId')
  })

  it('task nudge (a queued task woken): moved once', async () => {
    const task = { ...aTask(), dueAt: NOW + 60_000 }
    await direct.tasks.create(task)
    loseNextAnswer(fault, 'UpdateItem', task.id)
    await stores.tasks.nudge(task.id, NOW)
    expectRecovered(fault, 'UpdateItem')
    expect(await direct.tasks.get(task.id, NOW)).toMatchObject({ version: task.version + 1 })
  })

  it('TaskNo claim', async () => {
    const taskNo = unique('T')
    loseNextAnswer(fault, 'PutItem', taskNo)
    expect(await stores.taskNos.claim(taskNo, 'tsk_mine', 2_000_000_000)).toBe(true)
    expect(await direct.taskNos.claim(taskNo, 'tsk_other', 2_000_000_000)).toBe(false)
  })

  it('target lock acquire, and its release: the next in line can be woken', async () => {
    const target = unique('lock-')
    loseNextAnswer(fault, 'UpdateItem', target)
    // Its condition admits its own holder, so its retry is made again (nothing to recognise).
    expect(await stores.targetLocks.acquire(target, 'tsk_a', NOW + 60_000)).toBe(true)
    expect(proxy.faults.get(fault)).toBe(1)
    expect((await direct.targetLocks.read(target)).holder).toBe('tsk_a')
    await direct.targetLocks.enqueue(target, ticketOf(NOW, 0, 'tsk_b', 'alpha'), 10, 10)
    recovered.length = 0
    proxy.resetCounts()
    loseNextAnswer(fault, 'UpdateItem', target)
    const after = await stores.targetLocks.release(target, 'tsk_a')
    expectRecovered(fault, 'UpdateItem')
    expect(after).toMatchObject({
      holder: undefined,
      waiters: [ticketOf(NOW, 0, 'tsk_b', 'alpha')],
    })
  })

  it('target lock ticket (enqueue) counted once, dequeue, and a take as head', async () => {
    const target = unique('queue-')
    const ticket = ticketOf(NOW, 0, 'tsk_c', 'alpha')
    loseNextAnswer(fault, 'UpdateItem', target)
    expect(await stores.targetLocks.enqueue(target, ticket, 10, 10)).toBe(true)
    expectRecovered(fault, 'UpdateItem')
    const seen = await direct.targetLocks.read(target)
    expect(seen.waiters).toEqual([ticket])
    recovered.length = 0
    proxy.resetCounts()
    loseNextAnswer(fault, 'UpdateItem', target)
    expect(await stores.targetLocks.acquireAsHead(target, 'tsk_c', ticket, NOW, seen)).toBe(true)
    expectRecovered(fault, 'UpdateItem')
    const held = await direct.targetLocks.read(target)
    expect(held).toMatchObject({ holder: 'tsk_c', waiters: [] })
    // The tenant's count went down once: it may queue its whole share again.
    const item = await getItem(rawDb, h.env.TABLE_NAME as string, {
      pk: `TARGET#${target}`,
      sk: 'TARGET',
    })
    expect(item?.['waiting#alpha']).toBe(0)
  })

  it('change (a due item): create, replace, claim and nudge', async () => {
    const id = unique('chg_')
    const change = { id, version: 0, dueAt: NOW + 60_000, status: 'running' } as never
    loseNextAnswer(fault, 'PutItem', id)
    expect(await stores.changes.create(change)).toBe(true)
    loseNextAnswer(fault, 'UpdateItem', id)
    await stores.changes.nudge(id, NOW - 1)
    loseNextAnswer(fault, 'UpdateItem', id)
    const claimed = await stores.changes.claim(id, { owner: 'me', until: NOW + 1 }, NOW)
    expect(claimed).toMatchObject({ id, lease: { owner: 'me' } })
    loseNextAnswer(fault, 'PutItem', id)
    expect(await stores.changes.replace({ ...claimed, note: 'x' } as never, 2)).toBe(true)
    expect(recovered).toEqual(['PutItem', 'UpdateItem', 'UpdateItem', 'PutItem'])
    expect(await direct.changes.get(id, NOW)).toMatchObject({ version: 3, note: 'x' })
  })

  it('per-domain state: save, then remove', async () => {
    const domain = `${unique('state-')}.com`
    const state = { domain, tenant: 'alpha', keyId: 'key_1' }
    loseNextAnswer(fault, 'PutItem', domain)
    expect(await stores.domainStates.save(state, undefined)).toBe(true)
    expectRecovered(fault, 'PutItem')
    loseNextAnswer(fault, 'DeleteItem', domain)
    expect(await stores.domainStates.remove(domain, 1)).toBe(true)
    expect(await direct.domainStates.get(domain)).toBeUndefined()
  })

  it('API key create and replace', async () => {
    const id = unique('key_')
    const key = { id, tenant: 'alpha', version: 1, createdAt: new Date(NOW).toISOString() }
    loseNextAnswer(fault, 'PutItem', id)
    expect(await stores.apiKeys.create(key as never)).toBe(true)
    loseNextAnswer(fault, 'PutItem', id)
    expect(await stores.apiKeys.replace({ ...key, tenant: 'beta' } as never, 1)).toBe(true)
    expect(recovered).toEqual(['PutItem', 'PutItem'])
    expect(await direct.apiKeys.get(id)).toMatchObject({ tenant: 'beta', version: 2 })
  })

  it('rate counter: counted once', async () => {
    const key = unique('rate-')
    loseNextAnswer(fault, 'UpdateItem', key)
    expect(await stores.rateCounters.take(key, 1, 10, NOW + 60_000)).toBe(1)
    expectRecovered(fault, 'UpdateItem')
    expect(await direct.rateCounters.take(key, 1, 10, NOW + 60_000)).toBe(2)
  })

  it('event sequence: one number per call, none skipped', async () => {
    const domain = `${unique('seq-')}.com`
    loseNextAnswer(fault, 'UpdateItem', domain)
    expect(await stores.eventSequence.next(domain)).toBe(1)
    expectRecovered(fault, 'UpdateItem')
    expect(await direct.eventSequence.next(domain)).toBe(2)
  })

  it('versioned records: token bucket, endpoint health, tenant scope, the sweep state', async () => {
    const account = unique('acct-')
    loseNextAnswer(fault, 'PutItem', account)
    expect(await stores.buckets.write(account, { tokens: 3, at: NOW }, undefined)).toBe(true)
    const keyId = unique('key_')
    loseNextAnswer(fault, 'PutItem', keyId)
    const health = { keyId, endpoint: 'https://a.example/h', failures: 0 } as never
    expect(await stores.endpoints.save(health, undefined)).toBe(true)
    const tenant = unique('tenant-')
    loseNextAnswer(fault, 'PutItem', tenant)
    const scope = { tenant, domains: [], instances: [], updatedAt: new Date(NOW).toISOString() }
    expect(await stores.tenantScopes.save(scope, undefined)).toBe(true)
    expect(recovered).toEqual(['PutItem', 'PutItem', 'PutItem'])
    expect(await direct.endpoints.get(keyId, 'https://a.example/h')).not.toHaveProperty('writeId')
    expect(await direct.tenantScopes.get(tenant)).not.toHaveProperty('writeId')
  })

  it('an overdue item made due by the sweep', async () => {
    const task = { ...aTask(), status: 'pending' as const, dueAt: NOW - 600_000 }
    await direct.tasks.create(task)
    loseNextAnswer(fault, 'PutItem', task.id)
    const made = await stores.dueSweep.makeDue(
      { pk: `TASK#${task.id}`, sk: 'TASK' },
      NOW - 300_000,
      NOW,
    )
    expect(made).toBe(true)
    expectRecovered(fault, 'PutItem')
  })
})

describe('a race really lost is still lost', () => {
  it('a replace at a version someone else moved on answers false, and no write is recognised', async () => {
    const task = aTask()
    await direct.tasks.create(task)
    expect(await direct.tasks.replace({ ...task, status: 'pending' }, task.version)).toBe(true)
    expect(await stores.tasks.replace({ ...task, status: 'failed' }, task.version)).toBe(false)
    expect(recovered).toEqual([])
    expect(await direct.tasks.get(task.id, NOW)).toMatchObject({ status: 'pending' })
  })

  it('a write made, another writer after it, then its retry: lost (the conservative side)', async () => {
    const task = aTask()
    await direct.tasks.create(task)
    const table = h.env.TABLE_NAME as string
    const write = {
      put: {
        Item: { pk: `TASK#${task.id}`, sk: 'TASK', version: task.version + 1 },
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': task.version },
      },
    }
    // The first attempt is made; before its retry, another writer moves the item on.
    expect((await writeConditionally(rawDb, table, write, 'write-1')).made).toBe(true)
    await direct.tasks.replace({ ...task, version: task.version + 1 }, task.version + 1)
    const retry = await writeConditionally(rawDb, table, write, 'write-1')
    expect(retry.made).toBe(false)
    expect(retry.item?.version).toBe(task.version + 2)
  })

  it('throttled writes are retried by the SDK and counted', async () => {
    const retried: number[] = []
    const counting = createStores(
      { ...loadSettings(h.env).store, endpoint: proxy.url },
      {
        add: (name, value) => {
          if (name === 'StoreRetries') retried.push(value ?? 0)
        },
        flush: () => {},
      },
    )
    const task = aTask()
    proxy.failNext('throttled', 'PutItem', task.id)
    proxy.failNext('throttled', 'PutItem', task.id)
    expect(await counting.tasks.create(task)).toBe(true)
    expect(proxy.faults.get('throttled')).toBe(2)
    expect(retried).toEqual([2])
  })
})
