import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadStoreSettings } from '#shared/composition/gateway-env.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { ADMIN_KEY, type Harness, postJson, startHarness } from './helpers/gateway.ts'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h.close())

const admin = (init: RequestInit = {}) => ({ ...init, key: ADMIN_KEY })

describe('API keys', () => {
  it('answer 401 with WWW-Authenticate without a key, with a malformed or unknown key', async () => {
    for (const key of [
      null,
      'nonsense',
      'dgw_aaaaaaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ]) {
      const response = await h.request('/tasks', { key })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toBe('Bearer')
      expect(response.headers.get('content-type')).toBe('application/problem+json')
    }
    const basic = await h.request('/tasks', {
      key: null,
      headers: { authorization: 'Basic Zm9vOmJhcg==' },
    })
    expect(basic.status).toBe(401)
  })

  it('are checked before the request is validated', async () => {
    const response = await h.request('/domains/not..valid/ds', {
      ...postJson({ nonsense: true }),
      key: null,
    })
    expect(response.status).toBe(401)
  })

  it('answer 401 for a right id with a wrong secret', async () => {
    const { key } = await h.newKey('tamper', ['tasks:read'])
    const forged = `${key.slice(0, -4)}AAAA`
    expect((await h.request('/tasks', { key: forged })).status).toBe(401)
  })

  it('say when the admin key is used on a tenant route, and a tenant key on an admin route', async () => {
    const onTenantRoute = await h.request('/tasks', { key: ADMIN_KEY })
    expect(onTenantRoute.status).toBe(401)
    expect(await onTenantRoute.json()).toMatchObject({
      detail: expect.stringMatching(/^That is the admin key: .*tenant's API key/),
    })
    const { key } = await h.newKey('kinds', ['tasks:read'])
    const onAdminRoute = await h.request('/admin/tenants/kinds', { key })
    expect(onAdminRoute.status).toBe(401)
    expect(await onAdminRoute.json()).toMatchObject({
      detail: expect.stringMatching(/^That is a tenant's API key; .*ADMIN_API_KEY/),
    })
    // Anything else still says only that it is not valid.
    const unknown = await h.request('/tasks', { key: 'nonsense' })
    expect(await unknown.json()).toMatchObject({ detail: 'The API key is not valid.' })
    const badAdmin = await h.request('/admin/tenants/kinds', { key: 'nonsense' })
    expect(await badAdmin.json()).toMatchObject({ detail: 'The admin key is not valid.' })
  })

  it('answer 403 for a key without the route scope', async () => {
    const { key } = await h.newKey('narrow', ['tasks:read'])
    const response = await h.request('/domains/scope.com/ds/sync', { method: 'POST', key })
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({ detail: expect.stringContaining('sync:write') })
    expect(
      (await h.request('/dns-batch', { ...postJson({ domains: ['a.com'], aliyunDns: true }), key }))
        .status,
    ).toBe(403)
    expect((await h.request('/tasks', { key })).status).toBe(200)
  })

  it('are stored only as hashes', async () => {
    const { key } = await h.newKey('hashed', ['tasks:read'])
    const db = createDocumentClient(loadStoreSettings(h.env))
    const items = await db.send(new ScanCommand({ TableName: h.env.TABLE_NAME }))
    const dump = JSON.stringify(items.Items)
    expect(dump).not.toContain(key)
    // The secret part is everything after `dgw_<id>_` (it may itself contain `_`).
    expect(dump).not.toContain(key.slice('dgw_'.length + 16 + 1))
  })
})

describe('tenant isolation', () => {
  it("a tenant never sees or touches another tenant's tasks (404, not 403)", async () => {
    const a = await h.newKey('tenant-a', ['sync:write', 'tasks:read'])
    const b = await h.newKey('tenant-b', ['sync:write', 'tasks:read'])
    const created = (await (
      await h.request('/domains/iso-a.com/ds/sync', { method: 'POST', key: a.key })
    ).json()) as { id: string }
    const asB = await h.request(`/tasks/${created.id}`, { key: b.key })
    expect(asB.status).toBe(404)
    const missing = await h.request('/tasks/tsk_doesnotexist000000000000', { key: b.key })
    expect(await asB.json()).toEqual({
      ...((await missing.json()) as object),
      instance: `/tasks/${created.id}`,
    })
    const listB = (await (await h.request('/tasks', { key: b.key })).json()) as { items: unknown[] }
    expect(listB.items).toEqual([])
    const listA = (await (await h.request('/tasks', { key: a.key })).json()) as {
      items: { id: string }[]
    }
    expect(listA.items.map((item) => item.id)).toEqual([created.id])
  })

  it("a cursor from one tenant's listing is refused for another", async () => {
    const a = await h.newKey('cursor-a', ['sync:write', 'tasks:read'])
    const b = await h.newKey('cursor-b', ['tasks:read'])
    for (const name of ['c1.com', 'c2.com'])
      await h.request(`/domains/${name}/ds/sync`, { method: 'POST', key: a.key })
    const page = (await (await h.request('/tasks?limit=1', { key: a.key })).json()) as {
      nextCursor: string
    }
    expect(page.nextCursor).toBeTruthy()
    expect((await h.request(`/tasks?cursor=${page.nextCursor}`, { key: b.key })).status).toBe(422)
  })
})

describe('admin API', () => {
  it('refuses requests without the admin key', async () => {
    expect((await h.request('/admin/keys', { key: null })).status).toBe(401)
    expect((await h.request('/admin/keys', { key: h.key })).status).toBe(401)
  })

  it('creates a key shown once, lists it without secrets, revokes it', async () => {
    const created = await h.request(
      '/admin/keys',
      admin(
        postJson({
          tenant: 'billing',
          scopes: ['ds:write', 'tasks:read'],
          callbackUrl: 'https://billing.example.com/hook',
        }),
      ),
    )
    expect(created.status).toBe(201)
    expect(created.headers.get('cache-control')).toBe('no-store')
    const key = (await created.json()) as {
      id: string
      key: string
      webhookSecret: string
      tenant: string
    }
    expect(key.key).toMatch(/^dgw_[a-z2-7]{16}_/)
    expect(key.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect((await h.request('/tasks', { key: key.key })).status).toBe(200)

    const listText = await (await h.request('/admin/keys', admin())).text()
    expect(listText).toContain(key.id)
    expect(listText).not.toContain(key.key)
    expect(listText).not.toContain(key.webhookSecret)

    const task = (await (
      await h.request('/domains/billing.com/ds', {
        ...postJson({ keyTag: 1, algorithm: 13, digestType: 2, digest: 'a'.repeat(64) }),
        key: key.key,
      })
    ).json()) as { callback: { url: string } }
    expect(task.callback.url).toBe('https://billing.example.com/hook')

    const revoked = await h.request(`/admin/keys/${key.id}`, admin({ method: 'DELETE' }))
    expect(revoked.status).toBe(200)
    expect(await revoked.json()).toMatchObject({ id: key.id, revokedAt: expect.any(String) })
    expect((await h.request('/tasks', { key: key.key })).status).toBe(401)
    expect((await h.request('/admin/keys/nosuchkey', admin({ method: 'DELETE' }))).status).toBe(404)
  })

  it('rotates the webhook secret with a grace period in which both sign', async () => {
    const created = (await (
      await h.request('/admin/keys', admin(postJson({ tenant: 'rotor', scopes: ['tasks:read'] })))
    ).json()) as { id: string }
    const rotated = await h.request(
      `/admin/keys/${created.id}/webhook-secret/rotate`,
      admin(postJson({ graceSeconds: 3600 })),
    )
    expect(rotated.status).toBe(200)
    const body = (await rotated.json()) as {
      webhookSecret: string
      previousSecretExpiresAt: string
    }
    expect(body.webhookSecret).toMatch(/^whsec_/)
    const stored = await h.deps.apiKeys.get(created.id)
    expect(stored?.webhookSecrets.map((secret) => Boolean(secret.expiresAt))).toEqual([false, true])
    const list = (await (await h.request('/admin/keys', admin())).json()) as {
      items: { id: string; webhookSecrets: number }[]
    }
    expect(list.items.find((item) => item.id === created.id)?.webhookSecrets).toBe(2)
  })

  it('validates the new key request', async () => {
    const bad = await h.request(
      '/admin/keys',
      admin(postJson({ tenant: 'Bad Tenant', scopes: ['everything'] })),
    )
    expect(bad.status).toBe(422)
    const errors = ((await bad.json()) as { errors: { path: string }[] }).errors.map(
      (error) => error.path,
    )
    expect(errors).toEqual(expect.arrayContaining(['body.tenant', 'body.scopes.0']))
  })
})
