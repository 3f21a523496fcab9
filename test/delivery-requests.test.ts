import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import { processDueItem } from '#shared/poller/process-due-item.ts'
import { ADMIN_KEY } from './helpers/gateway.ts'
import { FAST_SETTINGS, type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { startRecordingProxy } from './helpers/recording-proxy.ts'

/**
 * What one delivered callback costs the store: the claim (which reads), the endpoint's health read
 * together with the key that signs (one BatchGetItem), the attempt marked in flight, the attempt's
 * log entry and the result. A success to a healthy endpoint writes no health. Since the key is
 * read with every delivery, a rotated secret signs the next one, whatever the key cache.
 */
let p: Pipeline
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>
let deps: PollerDeps

beforeAll(async () => {
  p = await startPipeline()
  p.receiver.reply = () => ({ status: 204 })
  proxy = await startRecordingProxy(p.env.DYNAMODB_ENDPOINT as string)
  const env = { ...p.env, DYNAMODB_ENDPOINT: proxy.endpoint, API_KEY_CACHE_SECONDS: '60' }
  const base = buildPollerDeps(loadSettings(env), {
    logger: silentLogger,
    // Past every due time the tasks get, so each step is due when asked.
    now: () => Date.now() + 60_000,
  })
  deps = { ...base, settings: { ...base.settings, ...FAST_SETTINGS, owner: 'delivery-test' } }
})
afterAll(async () => {
  await proxy.close()
  await p.closeAll()
})

it('a delivered callback costs five store requests, the signing key read with the endpoint health', async () => {
  const ids = [
    (await p.submit('/domains/deliver-one.example/ds/sync')).id,
    (await p.submit('/domains/deliver-two.example/ds/sync')).id,
  ]
  // Each task finishes upstream and is polled to its final status.
  for (const id of ids) {
    const until = Date.now() + 5_000
    while ((await p.task(id)).callback.state !== 'scheduled' && Date.now() < until) {
      await processDueItem(deps, { kind: 'task', id })
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect((await p.task(id)).callback.state).toBe('scheduled')
  }
  const deliveries: { outcome: string; operations: string[] }[] = []
  for (const id of ids) {
    const before = proxy.operations.length
    const outcome = await processDueItem(deps, { kind: 'task', id })
    deliveries.push({
      outcome,
      operations: proxy.operations.slice(before).map((operation) => operation.operation),
    })
  }
  const one = ['UpdateItem', 'BatchGetItem', 'PutItem', 'PutItem', 'PutItem']
  expect(deliveries[0]).toEqual({ outcome: 'delivered', operations: one })
  expect(deliveries[1]).toEqual({ outcome: 'delivered', operations: one })
  for (const id of ids) {
    expect((await p.task(id)).callback.state).toBe('delivered')
    expect(p.receiver.countsById().get(`msg_${id}`)).toBe(1)
  }
})

it('after a rotation with no grace period, the very next callback is signed with the new secret alone', async () => {
  const first = (await p.submit('/domains/rotate-before.example/ds/sync')).id
  const second = (await p.submit('/domains/rotate-after.example/ds/sync')).id
  const deliver = async (id: string) => {
    const until = Date.now() + 5_000
    while ((await p.task(id)).callback.state !== 'delivered' && Date.now() < until) {
      await processDueItem(deps, { kind: 'task', id })
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return p.receiver.received.filter((request) => request.id === `msg_${id}`).at(-1)
  }
  // The poller's key cache (60 s here) now holds the key with its first secret.
  const before = await deliver(first)
  expect(p.receiver.verify(before as never, p.tenant.webhookSecret).type).toBeDefined()
  const rotated = await p.request(`/admin/keys/${p.tenant.id}/webhook-secret/rotate`, {
    method: 'POST',
    key: ADMIN_KEY,
    body: JSON.stringify({ graceSeconds: 0 }),
  })
  expect(rotated.status).toBe(200)
  const { webhookSecret } = (await rotated.json()) as { webhookSecret: string }
  const after = await deliver(second)
  expect(p.receiver.verify(after as never, webhookSecret).type).toBeDefined()
  expect(() => p.receiver.verify(after as never, p.tenant.webhookSecret)).toThrow()
})
