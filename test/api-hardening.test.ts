import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressPolicy, checkAddress } from '#shared/webhooks/address-policy.ts'
import { ADMIN_KEY, type Harness, postJson, startHarness } from './helpers/gateway.ts'

/** What a hostile tester found (issue 10, items 4 and 5), each pinned. */
let h: Harness
beforeAll(async () => {
  h = await startHarness({ emulatorTaskMs: 20 })
})
afterAll(() => h.close())

const problemOf = async (response: Response) => ({
  status: response.status,
  type: ((await response.json()) as { type?: string }).type,
})

describe('cursors are opaque and tamper-evident', () => {
  it('a hand-made cursor of your own tenant, with missing or extra keys, is a 422', async () => {
    for (const position of [
      { gsi1pk: 'TENANT#alpha' },
      { gsi1pk: 'TENANT#alpha', gsi1sk: 'x', pk: 'TASK#x', sk: 'TASK', extra: 'y' },
      { gsi1pk: 'TENANT#alpha', gsi1sk: 'x', pk: 'TASK#x', sk: 'TASK' },
    ]) {
      const forged = Buffer.from(JSON.stringify(position)).toString('base64url')
      expect(await problemOf(await h.request(`/tasks?cursor=${forged}`))).toEqual({
        status: 422,
        type: '/docs#problem-invalid-request',
      })
    }
    expect((await h.request('/tasks?cursor=eyJnc2kxcGsiOiJURU5BTlQjbG9jYWwtZGV2In0')).status).toBe(
      422,
    )
  })

  it('a real cursor pages; altered, or used by another tenant, it is refused', async () => {
    for (const name of ['page-a.com', 'page-b.com', 'page-c.com']) {
      expect((await h.request(`/domains/${name}/ds/sync`, postJson({}))).status).toBe(202)
    }
    const first = (await (await h.request('/tasks?limit=2')).json()) as { nextCursor?: string }
    expect(first.nextCursor).toBeDefined()
    const cursor = first.nextCursor as string
    const second = await h.request(`/tasks?limit=2&cursor=${cursor}`)
    expect(second.status).toBe(200)
    const [payload, mac] = cursor.split('.') as [string, string]
    const flipped = `${payload.slice(0, -2)}${payload.at(-2) === 'A' ? 'B' : 'A'}${payload.at(-1)}.${mac}`
    expect((await h.request(`/tasks?cursor=${flipped}`)).status).toBe(422)
    const other = await h.newKey('beta', ['tasks:read'])
    expect((await h.request(`/tasks?cursor=${cursor}`, { key: other.key })).status).toBe(422)
  })
})

describe('ids are checked by shape on every route', () => {
  const long = `tsk_${'a'.repeat(2_100)}`
  it.each([
    ['GET', `/tasks/${long}`, 'tasks'],
    ['GET', `/tasks/${long}/deliveries`, 'tasks'],
    ['POST', `/tasks/${long}/deliveries/redeliver`, 'tasks'],
    ['GET', `/changes/chg_${'a'.repeat(2_100)}`, 'tasks'],
    ['GET', '/changes/chg_not-a-change', 'tasks'],
    ['DELETE', `/admin/keys/${'k'.repeat(2_100)}`, 'admin'],
    ['POST', `/admin/keys/${'k'.repeat(2_100)}/webhook-secret/rotate`, 'admin'],
  ])('%s %s… → 404, never a 5xx', async (method, path, who) => {
    const response = await h.request(path, {
      method,
      ...(who === 'admin' ? { key: ADMIN_KEY } : {}),
    })
    expect(response.status).toBe(404)
  })
})

describe('validation gaps', () => {
  it('a DNSKEY with an algorithm the registry does not list is refused before anything is sent', async () => {
    const response = await h.request(
      '/domains/alg.com/ds',
      postJson({
        dnskey:
          '257 3 99 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
      }),
    )
    expect(response.status).toBe(422)
    expect(JSON.stringify(await response.json())).toContain('algorithm')
    const sent = [...h.emulator.account.tasks.values()].filter(
      (task) => 'domain' in task.kind && task.kind.domain === 'alg.com',
    )
    expect(sent).toHaveLength(0)
  })

  it('a top-level label of full-width digits is all-numeric after normalisation', async () => {
    const response = await h.request(
      `/domains/${encodeURIComponent('1.2.3.４')}/ds/sync`,
      postJson({}),
    )
    expect(response.status).toBe(422)
    expect(JSON.stringify(await response.json())).toContain('all-numeric')
  })

  it('IPv4-compatible IPv6 forms are judged as the IPv4 address they carry', () => {
    const strict = addressPolicy({ allowLoopback: false, allowlist: [] })
    for (const address of ['::127.0.0.1', '[::169.254.169.254]', '::10.0.0.1', '::7f00:1']) {
      expect(checkAddress(address, strict).allowed, address).toBe(false)
    }
    expect(checkAddress('::8.8.8.8', strict).allowed).toBe(true)
  })

  it('GET /tasks/ is a 404, not a 405 that names the method used', async () => {
    expect(await problemOf(await h.request('/tasks/'))).toEqual({
      status: 404,
      type: '/docs#problem-not-found',
    })
  })
})
