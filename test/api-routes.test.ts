import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHA256_DIGEST } from './helpers/emulator.ts'
import { type Harness, postJson, startHarness } from './helpers/gateway.ts'

const TASK_MS = 40
let h: Harness
beforeAll(async () => {
  h = await startHarness({ emulatorTaskMs: TASK_MS, env: { POLL_DELAYS: '0.02' } })
})
afterAll(() => h.close())

const waitForUpstream = () => new Promise((resolve) => setTimeout(resolve, TASK_MS + 20))
const ds = (keyTag: number, digest = SHA256_DIGEST) => ({
  keyTag,
  algorithm: 13,
  digestType: 2,
  digest,
})
// RFC 6605 section 6.1's example KSK: example.net, key tag 55648, SHA-256 digest below.
const RFC_KSK =
  '257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA=='
// RFC 4509's example key, a zone-signing key (flags 256, no SEP flag): dskey.example.com, 60485.
const RFC_ZSK =
  '256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw=='

async function expectAccepted(response: Response) {
  expect(response.status).toBe(202)
  const body = (await response.json()) as Record<string, unknown> & { id: string }
  expect(response.headers.get('location')).toBe(`/tasks/${body.id}`)
  expect(response.headers.get('retry-after')).toBe('2')
  expect(body.id).toMatch(/^tsk_/)
  expect(body.status).toBe('pending')
  expect((body.upstream as { taskNo: string }).taskNo).toMatch(/^[0-9a-f-]{36}$/)
  return body
}

describe('submitting routes answer 202 with Location, Retry-After and the task', () => {
  it('POST /domains/:name/ds with a DS record', async () => {
    const task = await expectAccepted(
      await h.request('/domains/routes-add.com/ds', postJson(ds(11))),
    )
    expect(task).toMatchObject({
      action: 'ds.add',
      domains: ['routes-add.com'],
      request: { keyTag: 11 },
    })
  })

  it('POST /domains/:name/ds with a DNSKEY computes key tag and digest (RFC 6605)', async () => {
    const task = await expectAccepted(
      await h.request('/domains/example.net/ds', postJson({ dnskey: RFC_KSK })),
    )
    expect(task.request).toEqual({
      domain: 'example.net',
      keyTag: 55648,
      algorithm: 13,
      digestType: 2,
      digest: 'b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17',
    })
    await waitForUpstream()
    const current = await h.request('/domains/example.net/ds')
    const { domain: _domain, ...record } = task.request as Record<string, unknown>
    expect(await current.json()).toEqual({ domain: 'example.net', records: [record] })
  })

  it('refuses a zone-signing key (no SEP flag) as the DNSKEY, saying what to send, and submits nothing', async () => {
    const before = h.emulator.account.tasks.size
    for (const [method, path, body, at] of [
      ['POST', '/domains/dskey.example.com/ds', { dnskey: RFC_ZSK }, 'body.dnskey'],
      ['PUT', '/domains/dskey.example.com/ds/60485', { dnskey: RFC_ZSK }, 'body.dnskey'],
      [
        'PUT',
        '/domains/dskey.example.com/ds',
        { records: [{ dnskey: RFC_ZSK }] },
        'body.records.0.dnskey',
      ],
    ] as const) {
      const response = await h.request(path, { method, body: JSON.stringify(body) })
      expect(response.status).toBe(422)
      expect(await response.json()).toMatchObject({
        errors: [{ path: at, message: expect.stringMatching(/flags 256, without the SEP flag/) }],
      })
    }
    expect(h.emulator.account.tasks.size).toBe(before)
    expect(await (await h.request('/domains/dskey.example.com/ds')).json()).toEqual({
      domain: 'dskey.example.com',
      records: [],
    })
  })

  it('PUT and DELETE /domains/:name/ds/:keyTag, then GET shows the result', async () => {
    const domain = 'routes-modify.com'
    const added = await expectAccepted(await h.request(`/domains/${domain}/ds`, postJson(ds(7))))
    await h.settle([added.id])
    const newDigest = 'b'.repeat(64)
    const put = await h.request(`/domains/${domain}/ds/7`, {
      method: 'PUT',
      body: JSON.stringify({ algorithm: 13, digestType: 2, digest: newDigest.toUpperCase() }),
    })
    const modified = await expectAccepted(put)
    expect(modified.action).toBe('ds.modify')
    await h.settle([modified.id])
    expect(
      ((await (await h.request(`/domains/${domain}/ds`)).json()) as { records: unknown[] }).records,
    ).toEqual([ds(7, newDigest)])
    const del = await h.request(`/domains/${domain}/ds/7`, { method: 'DELETE' })
    const deleted = await expectAccepted(del)
    expect(deleted.request).toEqual({ domain, keyTag: 7 })
    await h.settle([deleted.id])
    expect(
      ((await (await h.request(`/domains/${domain}/ds`)).json()) as { records: unknown[] }).records,
    ).toEqual([])
  })

  it('DELETE accepts a callbackUrl in its body', async () => {
    const response = await h.request('/domains/routes-delete.com/ds/9', {
      method: 'DELETE',
      body: JSON.stringify({ callbackUrl: 'https://hooks.example.com/dg' }),
    })
    const task = await expectAccepted(response)
    expect((task.callback as { url: string }).url).toBe('https://hooks.example.com/dg')
  })

  it('POST /domains/:name/ds/sync and POST /instances/:id/dns-hosts/sync', async () => {
    const sync = await expectAccepted(
      await h.request('/domains/routes-sync.com/ds/sync', { method: 'POST' }),
    )
    expect(sync.action).toBe('ds.sync')
    const hosts = await expectAccepted(
      await h.request('/instances/ST2017120814571100001303/dns-hosts/sync', { method: 'POST' }),
    )
    expect(hosts).toMatchObject({ action: 'dnshost.sync', instanceId: 'ST2017120814571100001303' })
  })

  it('POST /dns-batch with own name servers and with Alibaba Cloud DNS', async () => {
    const own = await expectAccepted(
      await h.request(
        '/dns-batch',
        postJson({
          domains: ['batch-a.com', 'batch-b.com'],
          aliyunDns: false,
          nameServers: ['ns1.example.net', 'ns2.example.net'],
        }),
      ),
    )
    expect(own.details).toEqual([
      { domain: 'batch-a.com', status: 'pending' },
      { domain: 'batch-b.com', status: 'pending' },
    ])
    const aliyun = await expectAccepted(
      await h.request('/dns-batch', postJson({ domains: ['batch-c.com'], aliyunDns: true })),
    )
    expect(aliyun.request).toMatchObject({ aliyunDns: true, nameServers: [] })
  })
})

describe('task reads', () => {
  it('GET /tasks/:id returns the task; GET /tasks filters by status, domain and action with cursor paging', async () => {
    const { key } = await h.newKey('reader', ['ds:write', 'sync:write', 'tasks:read'])
    const created: string[] = []
    for (let i = 0; i < 5; i++) {
      const response = await h.request(`/domains/page-${i}.com/ds/sync`, { method: 'POST', key })
      created.push(((await response.json()) as { id: string }).id)
    }
    await h.request('/domains/other-action.com/ds', { ...postJson(ds(1)), key })
    const one = await h.request(`/tasks/${created[0]}`, { key })
    expect(((await one.json()) as { id: string }).id).toBe(created[0])

    const seen: string[] = []
    let cursor: string | undefined
    do {
      const query = new URLSearchParams({
        action: 'ds.sync',
        limit: '2',
        ...(cursor ? { cursor } : {}),
      })
      const page = (await (await h.request(`/tasks?${query}`, { key })).json()) as {
        items: { id: string; action: string }[]
        nextCursor?: string
      }
      expect(page.items.length).toBeLessThanOrEqual(2)
      for (const item of page.items) {
        expect(item.action).toBe('ds.sync')
        seen.push(item.id)
      }
      cursor = page.nextCursor
    } while (cursor)
    expect(seen).toEqual([...created].reverse())

    const byDomain = (await (await h.request('/tasks?domain=PAGE-3.com', { key })).json()) as {
      items: { id: string }[]
    }
    expect(byDomain.items.map((item) => item.id)).toEqual([created[3]])
    const byStatus = (await (await h.request('/tasks?status=succeeded', { key })).json()) as {
      items: unknown[]
    }
    expect(byStatus.items).toEqual([])
    const pending = (await (await h.request('/tasks?status=pending', { key })).json()) as {
      items: unknown[]
    }
    expect(pending.items).toHaveLength(6)
  })

  it('rejects a forged cursor and unknown filters', async () => {
    expect((await h.request('/tasks?cursor=bm9wZQ')).status).toBe(422)
    expect((await h.request('/tasks?status=done')).status).toBe(422)
    expect((await h.request('/tasks?limit=1000')).status).toBe(422)
    expect((await h.request('/tasks?colour=red')).status).toBe(422)
  })
})

describe('service routes', () => {
  it('GET /healthz, /openapi.json (3.1, every route) and /docs (offline page)', async () => {
    expect(await (await h.request('/healthz', { key: null })).json()).toEqual({ status: 'ok' })
    const doc = (await (await h.request('/openapi.json', { key: null })).json()) as {
      openapi: string
      paths: Record<string, Record<string, unknown>>
      webhooks: Record<string, { post: { requestBody: unknown } }>
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/admin/keys',
        '/admin/keys/{id}',
        '/admin/keys/{id}/endpoints',
        '/admin/keys/{id}/endpoints/enable',
        '/admin/keys/{id}/webhook-secret/rotate',
        '/admin/tenants/{tenant}',
        '/admin/domains/{name}',
        '/changes',
        '/changes/{id}',
        '/dns-batch',
        '/domains/{name}/dnssec',
        '/domains/{name}/dnssec/scan',
        '/domains/{name}/drift',
        '/domains/{name}/ds',
        '/domains/{name}/name-servers',
        '/domains/{name}/ds/sync',
        '/domains/{name}/ds/suggested',
        '/domains/{name}/ds/{keyTag}',
        '/events',
        '/events/recover',
        '/events/{id}',
        '/events/{id}/deliveries',
        '/events/{id}/redeliver',
        '/instances/{instanceId}/dns-hosts/sync',
        '/tasks',
        '/tasks/{id}',
        '/tasks/{id}/deliveries',
        '/tasks/{id}/deliveries/redeliver',
        '/webhooks/test',
      ].sort(),
    )
    expect(Object.keys(doc.paths['/domains/{name}/ds/{keyTag}'] ?? {}).sort()).toEqual([
      'delete',
      'put',
    ])
    // Every event a receiver can get is in the document's 3.1 webhooks.
    expect(Object.keys(doc.webhooks).sort()).toEqual(
      [
        'task.succeeded',
        'task.failed',
        'task.partially_failed',
        'task.rejected',
        'task.unknown',
        'ping',
        'change.failed',
        'change.succeeded',
        'dnssec.ds.published',
        'dnssec.ds.submitted',
        'dnssec.rollover.completed',
        'dnssec.rollover.stuck',
        'dnssec.scan.failed',
        'domain.drifted',
        'domain.in_sync',
        'publication.late',
        'publication.served',
      ].sort(),
    )
    expect(JSON.stringify(doc.webhooks['change.succeeded'])).toContain('webhook-signature')
    expect(Object.keys(doc.paths['/domains/{name}/ds'] ?? {}).sort()).toEqual([
      'get',
      'post',
      'put',
    ])
    const docs = await h.request('/docs', { key: null })
    const html = await docs.text()
    expect(docs.headers.get('content-type')).toContain('text/html')
    expect(html).toContain('/openapi.json')
    // The renderer comes from the gateway itself: no CDN, no other origin.
    const sources = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((match) => match[1])
    expect(sources).toEqual(['/docs/redoc.standalone.js'])
    expect(html).toContain('id="problem-upstream-busy"')
    const plain = await h.request('/docs/redoc.standalone.js', { key: null })
    expect(plain.headers.get('content-type')).toContain('javascript')
    const script = await plain.text()
    expect(script).toContain('Redoc')
    const zipped = await h.request('/docs/redoc.standalone.js', {
      key: null,
      headers: { 'accept-encoding': 'gzip, br' },
    })
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    const bytes = Buffer.from(await zipped.arrayBuffer())
    // (fetch in app.request does not decode: the body is the gzip stream itself.)
    expect(gunzipSync(bytes).toString('utf8')).toBe(script)
    expect(bytes.length).toBeLessThan(script.length / 2)
  })

  it('answers unknown routes with 404 and wrong methods with 405 and Allow, as problem+json', async () => {
    const missing = await h.request('/nothing-here')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toBe('application/problem+json')
    const wrong = await h.request('/dns-batch', { method: 'PATCH' })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('POST')
    expect(await wrong.json()).toMatchObject({
      status: 405,
      title: 'Method not allowed',
      instance: '/dns-batch',
    })
    // Every route the app serves, not only the documented ones; GET routes also answer HEAD.
    const health = await h.request('/healthz', { method: 'POST' })
    expect(health.status).toBe(405)
    expect(health.headers.get('allow')).toBe('GET, HEAD')
    expect((await h.request('/healthz', { method: 'HEAD' })).status).toBe(200)
  })

  it('echoes a request id and generates one when absent', async () => {
    const given = await h.request('/healthz', { headers: { 'x-request-id': 'abc-123' } })
    expect(given.headers.get('x-request-id')).toBe('abc-123')
    const generated = await h.request('/healthz', {
      headers: { 'x-request-id': 'bad id with spaces' },
    })
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const long = await h.request('/healthz', { headers: { 'x-request-id': 'a'.repeat(129) } })
    expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const onError = await h.request('/tasks', {
      key: null,
      headers: { 'x-request-id': 'trace=1_a-b' },
    })
    expect(onError.status).toBe(401)
    expect(onError.headers.get('x-request-id')).toBe('trace=1_a-b')
  })
})

describe('registry reads', () => {
  it('one QueryDSRecord per domain answers the reads of a few seconds, concurrent or not', async () => {
    // The API's clock stands still: the reads fall within the cache's 5 s however slowly the
    // machine serves them.
    const at = Date.now()
    const cached = await startHarness({
      env: { REGISTRY_READ_CACHE_SECONDS: '5' },
      overrides: { now: () => at },
    })
    try {
      // A rule that changes nothing and counts every QueryDSRecord the emulator answers.
      cached.emulator.faults.set([{ kind: 'latency', ms: 0, actions: ['QueryDSRecord'] }])
      const read = (domain: string) => cached.request(`/domains/${domain}/ds`)
      const answers = await Promise.all(Array.from({ length: 10 }, () => read('hot-read.com')))
      expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200))
      for (let i = 0; i < 5; i++) expect((await read('hot-read.com')).status).toBe(200)
      expect((await read('other-read.com')).status).toBe(200)
      const [counter] = cached.emulator.faults.list()
      expect(counter?.fired).toBe(2)
    } finally {
      await cached.close()
    }
  })

  it("never answers an older view than the gateway's own last change of the domain", async () => {
    const cached = await startHarness({
      env: { REGISTRY_READ_CACHE_SECONDS: '300' },
      emulatorTaskMs: 20,
    })
    try {
      const read = async () =>
        ((await (await cached.request('/domains/ryw-read.com/ds')).json()) as { records: [] })
          .records
      expect(await read()).toEqual([])
      const record = {
        keyTag: 2371,
        algorithm: 13,
        digestType: 2,
        digest: 'f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598',
      }
      const added = await cached.request('/domains/ryw-read.com/ds', {
        method: 'POST',
        body: JSON.stringify(record),
      })
      expect(added.status).toBe(202)
      const { id } = (await added.json()) as { id: string }
      await cached.settle([id])
      const task = (await (await cached.request(`/tasks/${id}`)).json()) as { status: string }
      expect(task.status).toBe('succeeded')
      // The same caller, right after seeing its change succeed: the registry's new set.
      expect(await read()).toEqual([record])
    } finally {
      await cached.close()
    }
  })
})
