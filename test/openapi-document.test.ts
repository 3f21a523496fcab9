import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, postJson, startHarness } from './helpers/gateway.ts'
import { TestReceiver } from './helpers/receiver.ts'

/** What the OpenAPI document promises, checked against what the gateway does. */
interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  responses: Record<string, { headers?: Record<string, unknown> }>
  parameters?: { name: string; in: string }[]
}
interface Document {
  servers: { url: string }[]
  info: { version: string; license?: { name: string } }
  tags: { name: string; description: string }[]
  paths: Record<string, Record<string, Operation>>
  webhooks: Record<string, { post: Operation & { requestBody: unknown } }>
  components: {
    schemas: Record<string, { required?: string[]; properties: Record<string, Field> }>
  }
}
interface Field {
  type?: string
  format?: string
  enum?: string[]
  properties: Record<string, Field>
}

let h: Harness
let doc: Document
const receiver = new TestReceiver()
beforeAll(async () => {
  h = await startHarness({ env: { POLL_DELAYS: '0.02' } })
  await receiver.start()
  doc = (await (await h.request('/openapi.json', { key: null })).json()) as Document
})
afterAll(async () => {
  await receiver.stop()
  await h.close()
})

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  )

describe('the OpenAPI document', () => {
  it('names, tags and summarises every operation and webhook, with unique ids and declared tags', () => {
    const all = [
      ...operations().map((entry) => entry.operation),
      ...Object.values(doc.webhooks).map((webhook) => webhook.post),
    ]
    expect(all.length).toBeGreaterThan(35)
    const ids = all.map((operation) => operation.operationId)
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    const declared = new Set(doc.tags.map((tag) => tag.name))
    for (const operation of all) {
      expect(operation.summary).toBeTruthy()
      expect(operation.tags?.length).toBeGreaterThan(0)
      for (const tag of operation.tags ?? []) expect(declared).toContain(tag)
    }
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }])
    expect(doc.info.license?.name).toBeTruthy()
  })

  it('has one version, the package and the typed client alike, and one limit on a domain name', async () => {
    const versionOf = (file: string) =>
      (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
    expect(doc.info.version).toBe(versionOf('package.json'))
    expect(versionOf('clients/typescript/package.json')).toBe(doc.info.version)
    const name = doc.paths['/domains/{name}/ds']?.post?.parameters?.find(
      (parameter) => parameter.name === 'name',
    ) as { schema?: { maxLength?: number } } | undefined
    expect(name?.schema?.maxLength).toBe(254)
    const tooLong = await h.request(
      `/domains/${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(20)}.com/ds`,
    )
    expect(tooLong.status).toBe(422)
    expect(await tooLong.json()).toMatchObject({
      errors: [{ path: 'path.name', message: 'the domain name is longer than 253 characters' }],
    })
  })

  it('declares X-Request-Id on every answer and Idempotent-Replayed where a key replays', async () => {
    for (const { operation } of operations()) {
      for (const response of Object.values(operation.responses)) {
        expect(Object.keys(response.headers ?? {})).toContain('X-Request-Id')
      }
    }
    const add = doc.paths['/domains/{name}/ds']?.post as Operation
    expect(Object.keys(add.responses['202']?.headers ?? {})).toEqual(
      expect.arrayContaining(['Location', 'Retry-After', 'Idempotent-Replayed']),
    )
    expect(Object.keys(add.responses['429']?.headers ?? {})).toContain('Retry-After')
    // ...and the gateway sends what the document says.
    const body = { keyTag: 4242, algorithm: 13, digestType: 2, digest: 'ab'.repeat(32) }
    const init = { ...postJson(body), headers: { 'idempotency-key': 'doc-replay-1' } }
    const first = await h.request('/domains/doc-replay.com/ds', {
      ...init,
      headers: { ...init.headers, 'content-type': 'application/json' },
    })
    expect(first.status).toBe(202)
    expect(first.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const again = await h.request('/domains/doc-replay.com/ds', {
      ...init,
      headers: { ...init.headers, 'content-type': 'application/json', 'x-request-id': 'mine-1' },
    })
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(again.headers.get('x-request-id')).toBe('mine-1')
  })

  it('types what callers send and read: optional defaults, timestamps, enums, upstreamRequestId', () => {
    const schemas = doc.components.schemas
    expect(schemas.DnskeyInput?.required).toEqual(['dnskey'])
    expect(schemas.RotateSecretInput?.required ?? []).not.toContain('graceSeconds')
    const task = schemas.Task?.properties ?? {}
    for (const field of ['createdAt', 'updatedAt', 'completedAt']) {
      expect(task[field]).toMatchObject({ type: 'string', format: 'date-time' })
    }
    expect(task.callback?.properties.state?.enum).toEqual([
      'none',
      'scheduled',
      'sending',
      'delivered',
      'exhausted',
      'gone',
      'blocked',
      'disabled',
    ])
    expect(task.status?.enum).toContain('queued')
    expect(schemas.Problem?.properties).toHaveProperty('upstreamRequestId')
    expect(schemas.Task).toHaveProperty('example')
  })

  it('describes every event with its body and the Standard Webhooks headers', () => {
    for (const [type, webhook] of Object.entries(doc.webhooks)) {
      const text = JSON.stringify(webhook.post)
      for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
        expect(text).toContain(header)
      }
      expect(text).toContain(`"enum":["${type}"]`)
    }
    expect(JSON.stringify(doc.webhooks['task.succeeded'])).toContain('TaskEventData')
  })
})

describe('POST /webhooks/test', () => {
  it("sends a signed ping to the key's callback URL and answers with the attempt", async () => {
    const key = await h.newKey('pinger', ['tasks:read'], receiver.url)
    const response = await h.request('/webhooks/test', { method: 'POST', key: key.key })
    expect(response.status).toBe(200)
    const attempt = (await response.json()) as Record<string, unknown>
    expect(attempt).toMatchObject({ url: receiver.url, outcome: 'delivered', statusCode: 204 })
    const received = receiver.received.find((r) => r.id === attempt.webhookId)
    expect(received).toBeDefined()
    const event = receiver.verify(received as never, key.webhookSecret)
    expect(event).toMatchObject({ type: 'ping', data: { tenant: 'pinger', keyId: key.id } })
    // Another key's secret does not verify it.
    const other = await h.newKey('other', ['tasks:read'])
    expect(() => receiver.verify(received as never, other.webhookSecret)).toThrow()
  })

  it('reports what the receiver answered, to a given URL, and refuses what it may not call', async () => {
    const key = await h.newKey('pinger2', ['ds:write'])
    receiver.reply = () => ({ status: 500, body: 'receiver broke' })
    try {
      const failed = await h.request('/webhooks/test', {
        ...postJson({ url: receiver.url }),
        key: key.key,
      })
      expect(failed.status).toBe(200)
      expect(await failed.json()).toMatchObject({
        outcome: 'failed',
        statusCode: 500,
        error: 'HTTP 500',
        responseSnippet: 'receiver broke',
      })
    } finally {
      receiver.reply = () => ({ status: 204 })
    }
    // With no URL anywhere, the event is stored for `listen`, not sent.
    const none = await h.request('/webhooks/test', { method: 'POST', key: key.key })
    expect(none.status).toBe(200)
    expect(await none.json()).toMatchObject({ type: 'ping', outcome: 'stored' })
    const refused = await h.request('/webhooks/test', {
      ...postJson({ url: 'http://169.254.169.254/latest' }),
      key: key.key,
    })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ type: '/docs#problem-callback-url-refused' })
    expect((await h.request('/webhooks/test', { method: 'POST', key: null })).status).toBe(401)
  })
})

describe('the DNSSEC state as documented', () => {
  it('is what GET /domains/{name}/dnssec answers, field for field', async () => {
    const { DnssecStateSchema } = await import('#functions/api/schemas/dnssec-schemas.ts')
    const enrol = await h.request('/domains/documented-example.com/dnssec', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'cds' }),
    })
    expect(enrol.status).toBeLessThan(300)
    const read = await h.request('/domains/documented-example.com/dnssec')
    expect(read.status).toBe(200)
    const body = (await read.json()) as Record<string, unknown>
    // It parses, and parsing (which drops undescribed fields at any depth) leaves it whole.
    const parsed = DnssecStateSchema.safeParse(body)
    expect(parsed.error?.issues ?? []).toEqual([])
    expect(parsed.data).toEqual(body)
    expect(body).toMatchObject({ domain: 'documented-example.com', mode: 'cds' })
    // (Its last scan is checked the same way against a real zone in dnssec-rollover.test.ts.)
  })
})

describe('a task as documented', () => {
  it("answers each action's request in the shape its schema names, and no other", async () => {
    const { TaskRequestSchema } = await import('#functions/api/schemas/task-schemas.ts')
    const { toTaskResource } = await import('#shared/tasks/task-resource.ts')
    const record = { keyTag: 55648, algorithm: 13, digestType: 2, digest: 'ab'.repeat(32) }
    const commands = [
      { action: 'ds.add', domain: 'example.com', record },
      { action: 'ds.modify', domain: 'example.com', record },
      { action: 'ds.delete', domain: 'example.com', keyTag: 55648 },
      { action: 'ds.sync', domain: 'example.com' },
      { action: 'dnshost.sync', instanceId: 'i-abc123' },
      { action: 'dns.batch', domains: ['a.com'], aliyunDns: false, nameServers: ['ns1.a.net'] },
    ] as const
    const names = new Set<string>()
    for (const command of commands) {
      const task = {
        id: 'tsk_0123456789abcdef',
        action: command.action,
        status: 'succeeded',
        command,
        upstream: {},
        details: [],
        callback: { url: undefined, state: 'none', attempts: 0 },
        createdAt: '2026-11-23T08:15:30.120Z',
        updatedAt: '2026-11-23T08:15:30.120Z',
      } as never
      const { request } = toTaskResource(task)
      // Exactly one of the union's shapes takes it (they are strict).
      const takers = TaskRequestSchema.options.filter((shape) => shape.safeParse(request).success)
      expect(takers, command.action).toHaveLength(1)
      names.add(JSON.stringify(Object.keys(request as object).sort()))
    }
    // ds.add and ds.modify share one shape.
    expect(names.size).toBe(5)
  })
})
