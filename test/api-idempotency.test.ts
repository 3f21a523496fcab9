import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { StoreUnavailableError } from '#shared/errors.ts'
import { keyedTaskId } from '#shared/ids.ts'
import type { Task } from '#shared/tasks/task.ts'
import type { TaskStore } from '#shared/tasks/task-store.ts'
import { crashingUpstream } from './helpers/crash-points.ts'
import { type Harness, postJson, startHarness } from './helpers/gateway.ts'
import { DEFAULTS } from './helpers/settings.ts'
import { passThrough } from './helpers/task-store-wrapper.ts'

let h: Harness
let clockOffsetMs = 0
let crashAfterUpstream = false

beforeAll(async () => {
  h = await startHarness({
    overrides: { now: () => Date.now() + clockOffsetMs },
    wrapUpstream: (real) =>
      crashingUpstream(real, {
        after: async () => {
          if (crashAfterUpstream) throw new Error('injected crash after the upstream call')
        },
      }),
  })
})
afterAll(() => h.close())
beforeEach(() => {
  h.emulator.faults.set([])
  clockOffsetMs = 0
  crashAfterUpstream = false
})

const upstreamTasksFor = (domain: string) =>
  [...h.emulator.account.tasks.values()].filter(
    (task) => 'domain' in task.kind && task.kind.domain === domain,
  )

const sync = (domain: string, key: string, body: object = {}, apiKey?: string) =>
  h.request(`/domains/${domain}/ds/sync`, {
    ...postJson(body, { 'idempotency-key': key }),
    ...(apiKey ? { key: apiKey } : {}),
  })

describe('Idempotency-Key', () => {
  it('the same key and body returns the first response, with one upstream task', async () => {
    const first = await sync('idem-same.com', 'k-1')
    const second = await sync('idem-same.com', 'k-1')
    expect(first.status).toBe(202)
    expect(second.status).toBe(202)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(second.headers.get('location')).toBe(first.headers.get('location'))
    expect(await second.json()).toEqual(await first.json())
    expect(upstreamTasksFor('idem-same.com')).toHaveLength(1)
  })

  it('the same key with another body → 422', async () => {
    await sync('idem-body.com', 'k-2')
    const other = await sync('idem-body.com', 'k-2', {
      callbackUrl: 'https://elsewhere.example.com/',
    })
    expect(other.status).toBe(422)
    expect(await other.json()).toMatchObject({ title: 'Idempotency key reused' })
    const otherRoute = await h.request(
      '/domains/idem-other.com/ds/sync',
      postJson({}, { 'idempotency-key': 'k-2' }),
    )
    expect(otherRoute.status).toBe(422)
  })

  it('while the first request is in flight → 409 with Retry-After', async () => {
    h.emulator.faults.set([
      { kind: 'latency', ms: 400, actions: ['SaveSingleTaskForSynchronizingDSRecord'] },
    ])
    const first = sync('idem-flight.com', 'k-3')
    await new Promise((resolve) => setTimeout(resolve, 100))
    const second = await sync('idem-flight.com', 'k-3')
    expect(second.status).toBe(409)
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await first).status).toBe(202)
    expect(upstreamTasksFor('idem-flight.com')).toHaveLength(1)
  })

  it('50 concurrent duplicates create exactly one upstream task', async () => {
    h.emulator.faults.set([{ kind: 'latency', ms: 50 }])
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => sync('idem-fifty.com', 'k-50')),
    )
    const statuses = responses.map((response) => response.status)
    expect(statuses.every((status) => status === 202 || status === 409)).toBe(true)
    const ids = new Set(
      await Promise.all(
        responses
          .filter((r) => r.status === 202)
          .map(async (r) => ((await r.json()) as { id: string }).id),
      ),
    )
    expect(ids.size).toBe(1)
    expect(upstreamTasksFor('idem-fifty.com')).toHaveLength(1)
    const after = await sync('idem-fifty.com', 'k-50')
    expect(((await after.json()) as { id: string }).id).toBe([...ids][0])
  })

  it('keys are scoped by tenant', async () => {
    const other = await h.newKey('idem-other-tenant', ['sync:write'])
    expect((await sync('idem-scope-a.com', 'shared-key')).status).toBe(202)
    const response = await sync('idem-scope-b.com', 'shared-key', {}, other.key)
    expect(response.status).toBe(202)
    expect(upstreamTasksFor('idem-scope-b.com')).toHaveLength(1)
  })

  it('a retryable failure frees the key so the same request can be retried', async () => {
    h.emulator.faults.set([
      { kind: 'throttle', actions: ['SaveSingleTaskForSynchronizingDSRecord'] },
    ])
    expect((await sync('idem-retry.com', 'k-4')).status).toBe(429)
    const refused = await h.deps.tasks.get(keyedTaskId('alpha', 'k-4'), Date.now())
    expect(refused).toMatchObject({ status: 'rejected', idempotency: { freed: true } })
    expect(refused?.answer).toBeUndefined()
    h.emulator.faults.set([])
    const retried = await sync('idem-retry.com', 'k-4')
    expect(retried.status).toBe(202)
    // The retry took the refused request's task over: one task for the key, now sent.
    const body = (await retried.json()) as { id: string; status: string }
    expect(body).toMatchObject({ id: keyedTaskId('alpha', 'k-4'), status: 'pending' })
    const listed = await h.request('/tasks?domain=idem-retry.com')
    expect(((await listed.json()) as { items: { id: string }[] }).items.map((t) => t.id)).toEqual([
      body.id,
    ])
    expect(upstreamTasksFor('idem-retry.com')).toHaveLength(1)
    // And it is kept now: the same request again is a replay.
    const again = await sync('idem-retry.com', 'k-4')
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.json()).toEqual(body)
  })

  it("the key names its task: one id for every request with it, another tenant's key another", async () => {
    const first = (await (await sync('idem-named.com', 'k-named')).json()) as { id: string }
    expect(first.id).toBe(keyedTaskId('alpha', 'k-named'))
    expect(first.id).toMatch(/^tsk_[A-Za-z0-9]{32}$/)
    expect(keyedTaskId('beta', 'k-named')).not.toBe(first.id)
    // Without a key, every request is a new task with a random id.
    const plain = h.request('/domains/idem-named.com/ds/sync', { method: 'POST' })
    const [one, two] = await Promise.all([
      plain,
      h.request('/domains/idem-plain.com/ds/sync', { method: 'POST' }),
    ])
    const ids = [
      ((await one.json()) as { id: string }).id,
      ((await two.json()) as { id: string }).id,
    ]
    expect(new Set([...ids, first.id]).size).toBe(3)
  })

  it('a final upstream rejection is replayed, not resubmitted', async () => {
    const first = await sync('unregistered-idem.com', 'k-5')
    const second = await sync('unregistered-idem.com', 'k-5')
    expect(first.status).toBe(422)
    expect(second.status).toBe(422)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(second.headers.get('content-type')).toBe('application/problem+json')
  })
})

describe('no lost TaskNo', () => {
  it('a crash after the upstream call leaves the task submitting; a retry with the key does not resubmit', async () => {
    crashAfterUpstream = true
    const crashed = await sync('crash.com', 'k-crash')
    expect(crashed.status).toBe(500)
    expect(await crashed.json()).toMatchObject({ type: '/docs#problem-internal' })
    expect(upstreamTasksFor('crash.com')).toHaveLength(1)
    const listed = (await (await h.request('/tasks?domain=crash.com')).json()) as {
      items: { id: string; status: string; upstream: { taskNo?: string } }[]
    }
    expect(listed.items).toHaveLength(1)
    expect(listed.items[0]).toMatchObject({ status: 'submitting', upstream: {} })
    const stored = await h.deps.tasks.get(listed.items[0]!.id, Date.now())
    expect(stored?.dueAt).toBeGreaterThan(Date.now())

    crashAfterUpstream = false
    expect((await sync('crash.com', 'k-crash')).status).toBe(409)
    clockOffsetMs = DEFAULTS.submit.idempotencyLockMs + 1_000
    const retried = await sync('crash.com', 'k-crash')
    expect(retried.status).toBe(202)
    expect(await retried.json()).toMatchObject({ id: listed.items[0]!.id, status: 'submitting' })
    expect(upstreamTasksFor('crash.com')).toHaveLength(1)
  })

  it('a slow store is slow, not an error: the intent is written late and the task still submitted once', async () => {
    const slow = await startHarness({
      overrides: { settings: { ...DEFAULTS.submit, sendWindowMs: 5_000 } },
      wrapTasks: (real): TaskStore => ({
        ...passThrough(real),
        // Far slower than the old 5 s-per-intent bound allowed, relative to the window.
        create: async (task) => {
          await new Promise((resolve) => setTimeout(resolve, 600))
          return real.create(task)
        },
        createOrGet: async (task, now) => {
          await new Promise((resolve) => setTimeout(resolve, 600))
          return real.createOrGet(task, now)
        },
      }),
    })
    try {
      const response = await slow.request(
        '/domains/slow-intent.com/ds/sync',
        postJson({}, { 'idempotency-key': 'slow-1' }),
      )
      expect(response.status).toBe(202)
      expect(await response.json()).toMatchObject({ status: 'pending' })
      expect(slow.emulator.account.tasks.size).toBe(1)
    } finally {
      await slow.close()
    }
  })

  it('an event loop stalled past sendBy sends nothing: NotSubmitted, 503, the key freed for a retry', async () => {
    let stall = true
    const stalled = await startHarness({
      overrides: { settings: { ...DEFAULTS.submit, sendWindowMs: 100 } },
      wrapUpstream: (real) =>
        crashingUpstream(real, {
          before: async () => {
            if (!stall) return
            // A synchronous stall: nothing else in this process runs meanwhile.
            const until = Date.now() + 250
            while (Date.now() < until) {}
          },
        }),
    })
    try {
      const first = await stalled.request(
        '/domains/stalled.com/ds/sync',
        postJson({}, { 'idempotency-key': 'stall-1' }),
      )
      expect(first.status).toBe(503)
      expect(await first.json()).toMatchObject({
        type: '/docs#problem-not-submitted',
        upstreamCode: 'SendWindowClosed',
      })
      expect(stalled.emulator.account.tasks.size).toBe(0)
      expect(stalled.emulator.nonces.size).toBe(0)
      const listed = (await (await stalled.request('/tasks')).json()) as {
        items: { status: string; error: { code: string } }[]
      }
      expect(listed.items).toMatchObject([{ status: 'rejected', error: { code: 'NotSubmitted' } }])

      stall = false
      const retried = await stalled.request(
        '/domains/stalled.com/ds/sync',
        postJson({}, { 'idempotency-key': 'stall-1' }),
      )
      expect(retried.status).toBe(202)
      expect(stalled.emulator.account.tasks.size).toBe(1)
    } finally {
      await stalled.close()
    }
  })

  it('a store outage after the upstream call answers 503 and keeps the intent', async () => {
    const outage = await startHarness({
      wrapTasks: (real): TaskStore => ({
        ...passThrough(real),
        replace: async (_next: Task, _version: number) => {
          throw new StoreUnavailableError('injected outage')
        },
      }),
    })
    try {
      const response = await outage.request('/domains/outage.com/ds/sync', { method: 'POST' })
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBe('5')
      const listed = (await (await outage.request('/tasks')).json()) as {
        items: { status: string }[]
      }
      expect(listed.items.map((item) => item.status)).toEqual(['submitting'])
    } finally {
      await outage.close()
    }
  })
})

describe('the first answer, kept on the task', () => {
  it('a queued acceptance is replayed as it was first given', async () => {
    // The domain is held by an open task, so the keyed request is queued behind it.
    expect((await h.request('/domains/idem-queued.com/ds/sync', postJson({}))).status).toBe(202)
    const first = await sync('idem-queued.com', 'q-1')
    expect(first.status).toBe(202)
    const body = (await first.json()) as { id: string; status: string }
    expect(body.status).toBe('queued')
    const again = await sync('idem-queued.com', 'q-1')
    expect(again.status).toBe(202)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.json()).toEqual(body)
    // The answer lives on the task (not in the response of GET, which shows the task now).
    const stored = await h.deps.tasks.get(body.id, Date.now())
    expect(stored?.answer?.status).toBe(202)
    expect(
      Object.keys((await (await h.request(`/tasks/${body.id}`)).json()) as object),
    ).not.toContain('answer')
  })

  it('a refusal that keeps the key is replayed with its status and problem', async () => {
    const remove = (key: string) =>
      // The registry answers DomainNotExist: final, so the key keeps the answer. (A sync: a DS
      // change would be refused by its pre-flight registry read, before any task is written.)
      h.request('/domains/unregistered-idem.com/ds/sync', {
        method: 'POST',
        headers: { 'idempotency-key': key },
      })
    const first = await remove('r-1')
    expect(first.status).toBe(422)
    const firstBody = await first.text()
    expect(JSON.parse(firstBody)).toMatchObject({ upstreamCode: 'DomainNotExist' })
    const again = await remove('r-1')
    expect(again.status).toBe(first.status)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.text()).toBe(firstBody)
    expect(upstreamTasksFor('unregistered-idem.com')).toHaveLength(0)
  })
})
