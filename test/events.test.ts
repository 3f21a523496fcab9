import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildEventDataSchemas, dataFor } from '#functions/api/webhook-docs.ts'
import { ALL_EVENT_TYPES } from '#shared/events/webhook-event.ts'
import { SHA256_DIGEST } from './helpers/emulator.ts'
import { postJson } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

/** Events as resources, end to end: API → embedded DynamoDB → emulator → poller → receiver. */
let p: Pipeline
beforeAll(async () => {
  p = await startPipeline()
})
afterAll(() => p.closeAll())
beforeEach(() => {
  p.receiver.reply = () => ({ status: 204 })
})

// biome-ignore lint/suspicious/noExplicitAny: the tests read answers' JSON loosely
type Json = Record<string, any>
const get = async (path: string, key = p.tenant.key) => {
  const response = await p.request(path, { key })
  return { status: response.status, body: (await response.json()) as Json }
}
const post = async (path: string, body?: unknown, key = p.tenant.key) => {
  const response = await p.request(path, {
    method: 'POST',
    key,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: response.status, body: (await response.json()) as Json }
}
const ds = (keyTag: number) => ({ keyTag, algorithm: 13, digestType: 2, digest: SHA256_DIGEST })
const delivered = (id: string) => async () => (await p.task(id)).callback.state === 'delivered'
const received = (webhookId: string) =>
  p.receiver.received.filter((request) => request.id === webhookId)

describe('events as resources', () => {
  it("a finished task is an event: listed, read by its webhook id, with the delivered body's data and its delivery log", async () => {
    const since = new Date().toISOString()
    const submitted = await p.submit('/domains/events-ok.com/ds', postJson(ds(3101)))
    await p.drainUntil(delivered(submitted.id))
    const webhookId = `msg_${submitted.id}`
    const [callback] = received(webhookId)
    const sent = p.receiver.verify(callback!, p.tenant.webhookSecret)

    const list = await get(`/events?since=${since}&type=task.succeeded`)
    expect(list.status).toBe(200)
    const listed = list.body.items.find((event: Json) => event.id === webhookId)
    expect(listed).toMatchObject({
      id: webhookId,
      type: 'task.succeeded',
      subject: submitted.id,
      test: false,
      delivery: { state: 'delivered', attempts: 1 },
    })
    expect(listed.data).toEqual(sent.data)
    expect(listed.timestamp).toBe(sent.timestamp)

    const one = await get(`/events/${webhookId}`)
    expect(one.body).toEqual(listed)
    const log = await get(`/events/${webhookId}/deliveries`)
    expect(log.body).toMatchObject({
      webhookId,
      delivery: { state: 'delivered' },
      attempts: [{ attempt: 1, outcome: 'delivered', statusCode: 204, webhookId }],
    })
    // Another type's filter leaves it out.
    const failed = await get(`/events?since=${since}&type=task.failed`)
    expect(failed.body.items.map((event: Json) => event.id)).not.toContain(webhookId)
  })

  it('a change and its event: GET /changes finds it, the event is redelivered with the same id and bytes', async () => {
    p.emulator.account.dsRecords.set('events-change.com', [ds(3201)])
    const response = await p.request('/domains/events-change.com/ds', {
      method: 'PUT',
      key: p.tenant.key,
      body: JSON.stringify({ records: [ds(3202)] }),
    })
    expect(response.status).toBe(202)
    const change = (await response.json()) as Json
    const webhookId = `msg_evt_${change.id.slice('chg_'.length)}`
    await p.drainUntil(async () => received(webhookId).length === 1)

    const changes = await get('/changes?domain=events-change.com')
    expect(changes.body.items).toMatchObject([
      { id: change.id, status: 'succeeded', done: true, kind: 'ds' },
    ])
    expect((await get('/changes?domain=events-change.com&status=running')).body.items).toEqual([])

    const event = await get(`/events/${webhookId}`)
    expect(event.body.data.sequence).toEqual(expect.any(Number))
    expect(event.body).toMatchObject({
      type: 'change.succeeded',
      subject: change.id,
      delivery: { state: 'delivered' },
    })
    const again = await post(`/events/${webhookId}/redeliver`)
    expect(again.status).toBe(202)
    expect(again.body.delivery.state).toBe('scheduled')
    await p.drainUntil(async () => received(webhookId).length === 2)
    const [first, second] = received(webhookId)
    expect(second!.body).toBe(first!.body)
    const log = await get(`/events/${webhookId}/deliveries`)
    expect(log.body.attempts.map((attempt: Json) => attempt.outcome)).toEqual([
      'delivered',
      'delivered',
    ])
  })

  it('recover sends again what was not delivered since a time, and leaves what was', async () => {
    const since = new Date().toISOString()
    p.receiver.reply = () => ({ status: 500 })
    const failing = await p.submit('/domains/events-recover.com/ds', postJson(ds(3301)))
    await p.drainUntil(async () => (await p.task(failing.id)).callback.state === 'exhausted')
    p.receiver.reply = () => ({ status: 204 })
    const ok = await p.submit('/domains/events-recover2.com/ds', postJson(ds(3302)))
    await p.drainUntil(delivered(ok.id))

    // A key that may only read does not send a task's event again, one or all at once.
    const reader = await p.newKey('pipeline', ['tasks:read'])
    expect((await post(`/events/msg_${failing.id}/redeliver`, undefined, reader.key)).status).toBe(
      403,
    )
    expect((await post('/events/recover', { since }, reader.key)).body.scheduled).toEqual([])
    const recovered = await post('/events/recover', { since })
    expect(recovered.status).toBe(202)
    expect(recovered.body).toMatchObject({ scheduled: [`msg_${failing.id}`], complete: true })
    await p.drainUntil(delivered(failing.id))
    expect(received(`msg_${ok.id}`)).toHaveLength(1)
    // Nothing is left to recover.
    expect((await post('/events/recover', { since })).body.scheduled).toEqual([])
  })

  it('pages with a sealed cursor, oldest first with order=asc', async () => {
    const since = new Date().toISOString()
    const ids: string[] = []
    for (const type of ['ping', 'domain.drifted', 'task.failed'] as const) {
      ids.push((await post('/webhooks/test', { type })).body.webhookId)
    }
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const page = await get(
        `/events?since=${since}&order=asc&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      )
      expect(page.status).toBe(200)
      seen.push(...page.body.items.map((event: Json) => event.id))
      cursor = page.body.nextCursor
    } while (cursor)
    expect(seen).toEqual(ids)
    const newest = await get(`/events?since=${since}&limit=3`)
    expect(newest.body.items.map((event: Json) => event.id)).toEqual([...ids].reverse())
  })

  it("another tenant's event, an unknown id and a malformed one are 404; a bad query is 422", async () => {
    const mine = (await post('/webhooks/test', { type: 'ping' })).body.webhookId
    const other = await p.newKey('events-other', ['tasks:read'])
    expect((await get(`/events/${mine}`, other.key)).status).toBe(404)
    expect((await post(`/events/${mine}/redeliver`, undefined, other.key)).status).toBe(404)
    expect((await get('/events/msg_evt_000000000000000000000000')).status).toBe(404)
    expect((await get('/events/nonsense')).status).toBe(404)
    const bad = await get('/events?since=yesterday')
    expect(bad.status).toBe(422)
    expect(bad.body.errors[0]).toMatchObject({ path: 'query.since' })
    expect((await get('/events?type=task.exploded')).status).toBe(422)
    expect((await get('/events?cursor=made-up')).status).toBe(422)
    // The other tenant sees none of this tenant's events.
    expect((await get('/events', other.key)).body.items).toEqual([])
  })
})

describe('test events of every type', () => {
  it('each is signed, delivered, shaped as the document says, stored and listed as a test', async () => {
    const schemas = buildEventDataSchemas()
    for (const type of ALL_EVENT_TYPES) {
      const sent = await post('/webhooks/test', { type })
      expect(sent.status, type).toBe(200)
      expect(sent.body).toMatchObject({ type, outcome: 'delivered', statusCode: 204 })
      const [request] = received(sent.body.webhookId)
      const event = p.receiver.verify(request!, p.tenant.webhookSecret)
      expect(event.type).toBe(type)
      const parsed = dataFor(type, schemas).safeParse(event.data)
      expect(parsed.success, `${type}: ${parsed.error?.message}`).toBe(true)
      const stored = await get(`/events/${sent.body.webhookId}`)
      expect(stored.body).toMatchObject({ type, test: true, delivery: { state: 'delivered' } })
      expect(stored.body.data).toEqual(event.data)
    }
  })

  it('with no URL anywhere the event is only stored; a refused URL stores nothing', async () => {
    const quiet = await p.newKey('events-quiet', ['tasks:read'])
    const stored = await post('/webhooks/test', { type: 'dnssec.ds.published' }, quiet.key)
    expect(stored.status).toBe(200)
    expect(stored.body).toMatchObject({ outcome: 'stored', type: 'dnssec.ds.published' })
    const listed = await get('/events', quiet.key)
    expect(listed.body.items).toMatchObject([
      { id: stored.body.webhookId, test: true, delivery: { state: 'none' } },
    ])
    const refused = await post('/webhooks/test', { url: 'http://169.254.169.254/' }, quiet.key)
    expect(refused.status).toBe(400)
    expect((await get('/events', quiet.key)).body.items).toHaveLength(1)
    const conflict = await post(`/events/${stored.body.webhookId}/redeliver`, undefined, quiet.key)
    expect(conflict.status).toBe(409)
  })
})

describe("a domain's event numbers", () => {
  it('are distinct and grow, however many take one at once; each domain counts alone', async () => {
    const taken = await Promise.all(
      Array.from({ length: 25 }, () => p.deps.eventSequence.next('sequence.example')),
    )
    expect([...taken].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
    expect(await p.deps.eventSequence.next('other-sequence.example')).toBe(1)
    expect(await p.deps.eventSequence.next('sequence.example')).toBe(26)
  })
})
