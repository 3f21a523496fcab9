import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '#functions/api/app.ts'
import { loadStoreSettings } from '#shared/composition/gateway-env.ts'
import { createStores } from '#shared/store/stores.ts'
import {
  type RateCounterStore,
  RateLimiter,
  rateKindFor,
  WINDOW_MS,
} from '#shared/tenants/rate-limit.ts'
import { ManualClock } from './helpers/emulator.ts'
import { ADMIN_KEY, ALL_SCOPES, type Harness, startHarness } from './helpers/gateway.ts'

/**
 * Per-tenant request rates, shared across API instances through the table: a request over its
 * kind's limit answers 429 with Retry-After and the IETF RateLimit fields, and does nothing. The
 * clock is pinned inside one window, so no assertion depends on when the test runs.
 */
let h: Harness
let counters: RateCounterStore
// The middle of a window: nothing here crosses into the next one by itself.
const clock = new ManualClock(Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS + WINDOW_MS / 2)
let secondInstance: ReturnType<typeof createApp>
let bravo: string
beforeAll(async () => {
  h = await startHarness({
    emulatorTaskMs: 30,
    env: {
      RATE_LIMIT_WRITES_PER_MINUTE: '4',
      RATE_LIMIT_UPSTREAM_READS_PER_MINUTE: '5',
      RATE_LIMIT_READS_PER_MINUTE: '1000',
      RATE_LIMIT_REDELIVERIES_PER_MINUTE: '2',
    },
  })
  counters = createStores(loadStoreSettings(h.env)).rateCounters
  // Both instances count in the same table, with the pinned clock.
  ;(h.deps as { rateLimiter: RateLimiter }).rateLimiter = new RateLimiter(counters, clock.now)
  secondInstance = createApp({ ...h.deps, rateLimiter: new RateLimiter(counters, clock.now) })
  bravo = (await h.newKey('bravo', ALL_SCOPES)).key
})
afterAll(() => h.close())

// biome-ignore lint/suspicious/noExplicitAny: the tests read answers' JSON loosely
const json = async (response: Response) => (await response.json()) as Record<string, any>
const ds = (keyTag: number) => ({ keyTag, algorithm: 13, digestType: 2, digest: 'd'.repeat(64) })
const onSecond = (path: string, key: string, init: RequestInit = {}) =>
  Promise.resolve(
    secondInstance.request(`http://gateway.test${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    }),
  )

/** In-memory counters with the store's rule, counting calls. */
function memoryCounters(): RateCounterStore & { calls: number } {
  const counts = new Map<string, number>()
  return {
    calls: 0,
    async take(key, count, limit) {
      this.calls++
      const used = counts.get(key) ?? 0
      if (used + count > limit) return undefined
      counts.set(key, used + count)
      return used + count
    },
  }
}

describe('the limiter', () => {
  it('instances sharing the counters allow the limit between them, not each; the next window starts afresh', async () => {
    const store = memoryCounters()
    const at = new ManualClock(10 * WINDOW_MS)
    const instances = [new RateLimiter(store, at.now), new RateLimiter(store, at.now)]
    let allowed = 0
    for (let i = 0; i < 400; i++) {
      if ((await instances[i % 2]?.take('t', 'writes', 300))?.allowed) allowed++
    }
    // Each instance leases 6 tokens at a time (2 % of 300): at most one lease each is left unspent.
    expect(allowed).toBeLessThanOrEqual(300)
    expect(allowed).toBeGreaterThanOrEqual(300 - 2 * 6)
    // About one store request per lease, not per request; refusals cost none once the window is spent.
    expect(store.calls).toBeLessThan(300 / 6 + 10)
    const callsWhenSpent = store.calls
    for (let i = 0; i < 50; i++)
      expect((await instances[0]?.take('t', 'writes', 300))?.allowed).toBe(false)
    expect(store.calls).toBe(callsWhenSpent)
    // Another tenant and another kind have their own counts.
    expect((await instances[0]?.take('u', 'writes', 300))?.allowed).toBe(true)
    expect((await instances[0]?.take('t', 'reads', 300))?.allowed).toBe(true)
    at.advance(WINDOW_MS)
    const next = await instances[1]?.take('t', 'writes', 300)
    expect(next).toMatchObject({ allowed: true, limit: 300, resetSeconds: 60 })
  })

  it('a small limit is exact: one token at a time', async () => {
    const store = memoryCounters()
    const at = new ManualClock(3 * WINDOW_MS + 15_000)
    const instances = [new RateLimiter(store, at.now), new RateLimiter(store, at.now)]
    const answers = []
    for (let i = 0; i < 8; i++) answers.push(await instances[i % 2]?.take('t', 'writes', 5))
    expect(answers.map((answer) => answer?.allowed)).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ])
    expect(answers.map((answer) => answer?.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0, 0])
    expect(answers[7]?.resetSeconds).toBe(45)
    expect(await instances[0]?.take('t', 'writes', 0)).toBeUndefined()
  })

  it('a route spends the kind its spec names, else reads for a GET and writes otherwise', async () => {
    expect(rateKindFor({ method: 'get' }, false)).toBe('reads')
    expect(rateKindFor({ method: 'delete' }, false)).toBe('writes')
    expect(rateKindFor({ method: 'put', rateWhenDryRun: 'upstreamReads' }, true)).toBe(
      'upstreamReads',
    )
    expect(rateKindFor({ method: 'put', rateWhenDryRun: 'upstreamReads' }, false)).toBe('writes')
    // Through the API: the RateLimit-Policy field of each answer names the kind it spent (a
    // tenant of its own, so no other test's budget is touched).
    const { key } = await h.newKey('kinds', ALL_SCOPES)
    const kindOf = async (method: string, path: string, body?: unknown) => {
      const response = await h.request(path, {
        method,
        key,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      return /^"(\w+)"/.exec(response.headers.get('ratelimit-policy') ?? '')?.[1]
    }
    const since = new Date(Date.now() - 60_000).toISOString()
    expect({
      tasks: await kindOf('GET', '/tasks'),
      events: await kindOf('GET', '/events'),
      registry: await kindOf('GET', '/domains/kinds.com/ds'),
      drift: await kindOf('GET', '/domains/kinds.com/drift'),
      plan: await kindOf('PUT', '/domains/kinds.com/ds?dryRun=true', { records: [] }),
      apply: await kindOf('PUT', '/domains/kinds.com/ds', { records: [], allowEmpty: true }),
      add: await kindOf('POST', '/domains/kinds.com/ds', {}),
      scan: await kindOf('POST', '/domains/kinds.com/dnssec/scan'),
      redeliverTask: await kindOf('POST', '/tasks/tsk_nothing/deliveries/redeliver'),
      redeliverEvent: await kindOf('POST', '/events/evt_nothing/redeliver'),
      recover: await kindOf('POST', '/events/recover', { since }),
    }).toEqual({
      tasks: 'reads',
      events: 'reads',
      registry: 'upstreamReads',
      drift: 'upstreamReads',
      plan: 'upstreamReads',
      apply: 'writes',
      add: 'writes',
      scan: 'upstreamReads',
      redeliverTask: 'redeliveries',
      redeliverEvent: 'redeliveries',
      recover: 'redeliveries',
    })
  })
})

describe('rate limits on the API', () => {
  it('registry reads over the limit answer 429 with Retry-After and RateLimit fields, across instances, and reach Alibaba no more', async () => {
    h.emulator.faults.set([{ kind: 'latency', ms: 0, actions: ['QueryDSRecord'] }])
    const answers: Response[] = []
    for (let i = 0; i < 8; i++) {
      const path = `/domains/limited-${i}.com/ds`
      answers.push(await (i % 2 === 0 ? h.request(path) : onSecond(path, h.key)))
    }
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429])
    expect(answers[0]?.headers.get('ratelimit-policy')).toBe('"upstreamReads";q=5;w=60')
    expect(answers[0]?.headers.get('ratelimit')).toBe('"upstreamReads";r=4;t=30')
    const refused = answers[5] as Response
    expect(refused.headers.get('retry-after')).toBe('30')
    expect(refused.headers.get('ratelimit')).toBe('"upstreamReads";r=0;t=30')
    expect(refused.headers.get('content-type')).toMatch(/problem\+json/)
    expect((await json(refused)).type).toBe('/docs#problem-rate-limited')
    const [counter] = h.emulator.faults.list()
    expect(counter?.fired).toBe(5)
    // Another tenant has its own count.
    expect((await h.request('/domains/limited-0.com/ds', { key: bravo })).status).toBe(200)
  })

  it('a submission over the limit writes nothing; a tenant given its own limits by the admin gets them', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) {
      const answer = await h.request(`/domains/writes-${i}.com/ds`, {
        method: 'POST',
        key: bravo,
        body: JSON.stringify(ds(100 + i)),
      })
      statuses.push(answer.status)
    }
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429])
    const tasks = await json(await h.request('/tasks?limit=100', { key: bravo }))
    expect(tasks.items.map((task: { domains: string[] }) => task.domains[0]).sort()).toEqual([
      'writes-0.com',
      'writes-1.com',
      'writes-2.com',
      'writes-3.com',
    ])
    const set = await h.request('/admin/tenants/charlie', {
      method: 'PUT',
      key: ADMIN_KEY,
      body: JSON.stringify({ domains: ['*'], limits: { writes: 1, reads: 0 } }),
    })
    expect(set.status).toBe(200)
    expect((await json(set)).limits).toEqual({ writes: 1, reads: 0 })
    const charlie = (await h.newKey('charlie', ALL_SCOPES)).key
    const first = await h.request('/domains/own-limit.com/ds', {
      method: 'POST',
      key: charlie,
      body: JSON.stringify(ds(1)),
    })
    const second = await h.request('/domains/own-limit.com/ds', {
      method: 'POST',
      key: charlie,
      body: JSON.stringify(ds(2)),
    })
    expect([first.status, second.status]).toEqual([202, 429])
    expect(second.headers.get('ratelimit-policy')).toBe('"writes";q=1;w=60')
    // reads: 0 is unlimited for this tenant, whatever the gateway's default; no RateLimit fields then.
    const read = await h.request('/tasks', { key: charlie })
    expect(read.status).toBe(200)
    expect(read.headers.get('ratelimit')).toBeNull()
  })

  it('redelivery is rate-limited', async () => {
    const task = await json(
      await h.request('/domains/redeliver-me.com/ds', {
        method: 'POST',
        body: JSON.stringify(ds(7)),
      }),
    )
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const answer = await h.request(`/tasks/${task.id}/deliveries/redeliver`, { method: 'POST' })
      statuses.push(answer.status)
    }
    expect(statuses.slice(2)).toEqual([429, 429])
    expect(statuses.slice(0, 2).every((status) => status !== 429)).toBe(true)
  })

  it('the document lists 429 and the RateLimit fields on every route a tenant key calls', async () => {
    const doc = await json(await h.request('/openapi.json'))
    // biome-ignore lint/suspicious/noExplicitAny: the document is read loosely
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(item)) {
        const bearer = (operation.security ?? []).some((s: object) => 'bearer' in s)
        if (!bearer) continue
        expect(operation.responses['429'], `${method} ${path}`).toBeDefined()
        const ok = operation.responses['200'] ?? operation.responses['202']
        expect(Object.keys(ok.headers), `${method} ${path}`).toContain('RateLimit')
      }
    }
  })
})
