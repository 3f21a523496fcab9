import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_KEY, ALL_SCOPES, type Harness, startHarness } from './helpers/gateway.ts'
import { scopedOperations } from './helpers/scoped-operations.ts'

/**
 * Keys are scoped to their tenant's domains and instances: a domain outside the scope answers 404
 * on every route that names one — the same answer as for a name the gateway knows nothing of.
 * The routes are taken from the OpenAPI document, so a new route cannot forget the check.
 */
let h: Harness
let strict: Harness
let scoped: { key: string }
beforeAll(async () => {
  h = await startHarness({ emulatorTaskMs: 50 })
  strict = await startHarness({ emulatorTaskMs: 50, env: { TENANT_SCOPES: 'strict' } })
  scoped = await h.newKey('scoped', ALL_SCOPES)
  const set = await admin(h, 'PUT', '/admin/tenants/scoped', {
    domains: ['mine.com', '*.team.com'],
    instances: ['ST2017120814571100001303'],
  })
  expect(set.status).toBe(200)
})
afterAll(async () => {
  await h.close()
  await strict.close()
})

const admin = (harness: Harness, method: string, path: string, body?: unknown) =>
  harness.request(path, {
    method,
    key: ADMIN_KEY,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
// biome-ignore lint/suspicious/noExplicitAny: the tests read answers' JSON loosely
const json = async (response: Response) => (await response.json()) as Record<string, any>

const DS = { keyTag: 1, algorithm: 13, digestType: 2, digest: 'a'.repeat(64) }

describe('tenant scope', () => {
  it('every route that names a domain or an instance answers 404 outside the scope, before reading the body', async () => {
    const doc = await json(await h.request('/openapi.json'))
    const operations = scopedOperations(doc as never, 'outside.com', 'S2019OUTSIDE00000001')
    // The document's own domain and instance routes, all of them.
    expect(operations.length).toBeGreaterThanOrEqual(13)
    for (const { method, path, body } of operations) {
      const response = await h.request(path, {
        method,
        key: scoped.key,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      expect(response.status, `${method} ${path}`).toBe(404)
      expect((await json(response)).type, `${method} ${path}`).toBe('/docs#problem-not-found')
    }
    expect(h.emulator.account.tasks.size).toBe(0)
  })

  it('a name below a suffix pattern is in scope, the suffix itself is not; an exact name and instance are', async () => {
    const sync = (path: string) => h.request(path, { method: 'POST', key: scoped.key })
    expect((await sync('/domains/a.team.com/ds/sync')).status).toBe(202)
    expect((await sync('/domains/team.com/ds/sync')).status).toBe(404)
    expect((await sync('/domains/mine.com/ds/sync')).status).toBe(202)
    expect((await sync('/instances/ST2017120814571100001303/dns-hosts/sync')).status).toBe(202)
    const read = await h.request('/domains/mine.com/ds', { key: scoped.key })
    expect(read.status).toBe(200)
  })

  it('a tenant the admin gave no scope acts on everything by default (TENANT_SCOPES=open)', async () => {
    const response = await h.request('/domains/anything.com/ds', {
      method: 'POST',
      body: JSON.stringify(DS),
    })
    expect(response.status).toBe(202)
    expect((await admin(h, 'GET', '/admin/tenants/alpha')).status).toBe(404)
  })

  it('under TENANT_SCOPES=strict a tenant without a scope acts on nothing, until the admin gives it one', async () => {
    const path = '/domains/strict.com/ds'
    expect((await strict.request(path, { method: 'POST', body: JSON.stringify(DS) })).status).toBe(
      404,
    )
    expect((await admin(strict, 'PUT', '/admin/tenants/alpha', { domains: ['*'] })).status).toBe(
      200,
    )
    const after = await strict.request(path, { method: 'POST', body: JSON.stringify(DS) })
    expect(after.status).toBe(202)
    expect(await json(await admin(strict, 'GET', '/admin/tenants/alpha'))).toMatchObject({
      tenant: 'alpha',
      domains: ['*'],
      instances: [],
    })
  })

  it('a scope narrowed later hides the tasks, changes and events on what it no longer has', async () => {
    const key = await h.newKey('narrowed', ALL_SCOPES)
    const as = (path: string, init: RequestInit = {}) => h.request(path, { ...init, key: key.key })
    expect(
      (await admin(h, 'PUT', '/admin/tenants/narrowed', { domains: ['was-mine.com', 'kept.com'] }))
        .status,
    ).toBe(200)
    const gone = await json(await as('/domains/was-mine.com/ds/sync', { method: 'POST' }))
    const kept = await json(await as('/domains/kept.com/ds/sync', { method: 'POST' }))
    await h.settle([gone.id, kept.id])
    const change = await as('/domains/was-mine.com/ds', {
      method: 'PUT',
      body: JSON.stringify({ records: [DS] }),
    })
    expect(change.status).toBe(202)
    const changeId = (await json(change)).id as string
    // A final task is an event too (its data's id is the task's).
    const events = async () =>
      (await json(await as('/events?limit=100'))).items as { id: string; data: { id?: string } }[]
    const goneEvent = (await events()).find((event) => event.data.id === gone.id)
    expect(goneEvent).toBeDefined()
    for (const path of [`/tasks/${gone.id}`, `/changes/${changeId}`]) {
      expect((await as(path)).status, path).toBe(200)
    }

    expect(
      (await admin(h, 'PUT', '/admin/tenants/narrowed', { domains: ['kept.com'] })).status,
    ).toBe(200)
    const eventId = goneEvent?.id as string
    for (const path of [
      `/tasks/${gone.id}`,
      `/tasks/${gone.id}/deliveries`,
      `/changes/${changeId}`,
      `/events/${eventId}`,
    ]) {
      const answer = await as(path)
      expect(answer.status, path).toBe(404)
    }
    expect((await as(`/tasks/${kept.id}`)).status).toBe(200)
    const tasks = (await json(await as('/tasks'))).items as { id: string }[]
    expect(tasks.map((task) => task.id)).toEqual([kept.id])
    expect((await json(await as('/changes'))).items).toEqual([])
    const left = await events()
    expect(left.some((event) => event.data.id === gone.id)).toBe(false)
    expect(left.some((event) => event.data.id === kept.id)).toBe(true)
  })

  it('the admin API validates scopes and tenant names; "system" is reserved', async () => {
    expect(
      (await admin(h, 'PUT', '/admin/tenants/scoped', { domains: ['not a domain'] })).status,
    ).toBe(422)
    expect((await admin(h, 'PUT', '/admin/tenants/Bad Name', { domains: [] })).status).toBe(422)
    const set = await admin(h, 'PUT', '/admin/tenants/normalised', {
      domains: ['*.Bücher.COM.', 'Example.COM'],
    })
    expect(await json(set)).toMatchObject({ domains: ['*.xn--bcher-kva.com', 'example.com'] })
    // Not the admin key: 401.
    expect((await h.request('/admin/tenants/scoped')).status).toBe(401)
    const system = await admin(h, 'POST', '/admin/keys', { tenant: 'system', scopes: ['ds:write'] })
    expect(system.status).toBe(422)
  })
})
