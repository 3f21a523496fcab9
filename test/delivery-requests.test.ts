import { afterAll, beforeAll, expect, it } from 'vitest'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import { loadGatewayConfig, loadWorkerConfig } from '#shared/config.ts'
import { silentLogger } from '#shared/logger.ts'
import { type PollerDeps, processDueTask } from '#shared/poller/process-task.ts'
import { FAST_SETTINGS, type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { startRecordingProxy } from './helpers/recording-proxy.ts'

/**
 * What one delivered callback costs the store: the claim (which reads), the endpoint's health, the
 * attempt marked in flight, the attempt's log entry and the result. The key's secrets are read
 * once per cache period, not per delivery, and a success to a healthy endpoint writes no health.
 */
let p: Pipeline
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>
let deps: PollerDeps

beforeAll(async () => {
  p = await startPipeline()
  p.receiver.reply = () => ({ status: 204 })
  proxy = await startRecordingProxy(p.env.DYNAMODB_ENDPOINT as string)
  const env = { ...p.env, DYNAMODB_ENDPOINT: proxy.endpoint, API_KEY_CACHE_SECONDS: '60' }
  const base = buildPollerDeps(loadGatewayConfig(env), loadWorkerConfig(env), {
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

it('a delivered callback costs five store requests; the signing key is read once', async () => {
  const ids = [
    (await p.submit('/domains/deliver-one.example/ds/sync')).id,
    (await p.submit('/domains/deliver-two.example/ds/sync')).id,
  ]
  // Each task finishes upstream and is polled to its final status.
  for (const id of ids) {
    const until = Date.now() + 5_000
    while ((await p.task(id)).callback.state !== 'scheduled' && Date.now() < until) {
      await processDueTask(deps, id)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect((await p.task(id)).callback.state).toBe('scheduled')
  }
  const deliveries: { outcome: string; operations: string[] }[] = []
  for (const id of ids) {
    const before = proxy.operations.length
    const outcome = await processDueTask(deps, id)
    deliveries.push({
      outcome,
      operations: proxy.operations.slice(before).map((operation) => operation.operation),
    })
  }
  const one = ['UpdateItem', 'GetItem', 'PutItem', 'PutItem', 'PutItem']
  // The first delivery also reads the key that signs it (another GetItem); the second does not.
  expect(deliveries[0]?.outcome).toBe('delivered')
  expect([...(deliveries[0]?.operations ?? [])].sort()).toEqual([...one, 'GetItem'].sort())
  expect(deliveries[1]).toEqual({ outcome: 'delivered', operations: one })
  for (const id of ids) {
    expect((await p.task(id)).callback.state).toBe('delivered')
    expect(p.receiver.countsById().get(`msg_${id}`)).toBe(1)
  }
})
