import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { ADMIN_KEY, TEST_DYNAMODB_ENGINE } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { TestReceiver } from './helpers/receiver.ts'

/** One tenant's slow or broken receiver must not hold back anyone else's callbacks. */
let p: Pipeline
const slow = new TestReceiver()
const broken = new TestReceiver()
beforeAll(async () => {
  p = await startPipeline({ emulatorTaskMs: 20 })
  await slow.start()
  await broken.start()
})
afterAll(async () => {
  await slow.stop()
  await broken.stop()
  await p.closeAll()
})

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of closers) await close()
})

async function submitFor(
  pipeline: Pipeline,
  key: string,
  prefix: string,
  count: number,
): Promise<string[]> {
  const ids: string[] = []
  for (let index = 0; index < count; index++) {
    const response = await pipeline.request(`/domains/${prefix}-${index}.com/ds/sync`, {
      method: 'POST',
      key,
    })
    expect(response.status).toBe(202)
    ids.push(((await response.json()) as { id: string }).id)
  }
  return ids
}

describe('delivery lanes', () => {
  it("a receiver that hangs holds only its own lanes: another tenant's callbacks go out at once", async () => {
    // Its own pipeline, with a long send timeout (5 s; 10 s on moto, whose every store call is
    // slow): long against anything else here, even on a busy machine. Each slow answer would
    // take twice as long; the gateway gives up at the timeout.
    const timeout = TEST_DYNAMODB_ENGINE === 'moto' ? 10_000 : 5_000
    const q = await startPipeline({
      emulatorTaskMs: 20,
      env: { CALLBACK_TIMEOUT_MS: String(timeout) },
    })
    closers.push(q.closeAll)
    slow.reply = () => ({ status: 204, delayMs: timeout * 2 })
    const slowKey = await q.newKey('slow-tenant', ['sync:write', 'tasks:read'], slow.url)
    const hanging = await submitFor(q, slowKey.key, 'hangs', 20)
    const ordinary = await submitFor(q, q.tenant.key, 'ordinary', 5)
    const deps = q.pollerDeps(
      {},
      { callbackPerEndpoint: 2, callbackConcurrency: 32, callbackTimeoutMs: timeout },
    )
    // One run, as the scheduled poller makes it (a long one; it waits for its deliveries at the end).
    const started = Date.now()
    const run = runPoller(deps, started + timeout + 1_000)
    let deliveredAfter: number | undefined
    while (Date.now() - started < timeout + 1_000) {
      const tasks = await Promise.all(ordinary.map((id) => q.task(id)))
      if (tasks.every((task) => task.callback.state === 'delivered')) {
        deliveredAfter = Date.now() - started
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    // Twenty hanging deliveries fill any fixed pool of workers (16) for the whole timeout; the
    // other tenant's five went out while the first two hung.
    expect(deliveredAfter).toBeDefined()
    expect(deliveredAfter).toBeLessThan(timeout - 1_000)
    expect(slow.received.length).toBe(2)
    await run
    expect(hanging).toHaveLength(20)
  }, 60_000)
})

describe('a failing endpoint is backed off as a whole, then disabled, and can be re-enabled', () => {
  it('backs off, disables with an event, and re-enabling schedules the missed callbacks again', async () => {
    broken.reply = () => ({ status: 500 })
    const key = await p.newKey('broken-tenant', ['sync:write', 'tasks:read'], broken.url)
    const lines: string[] = []
    const logger = createLogger({ level: 'warn', write: (line) => lines.push(line) })
    const deps = p.pollerDeps(
      { logger },
      {
        // Each task would retry every 20 ms; the endpoint's backoff overrules that.
        callbackRetryDelaysMs: Array(50).fill(20),
        endpointHealth: {
          failuresBeforeBackoff: 2,
          baseBackoffMs: 100,
          maxBackoffMs: 400,
          disableAfterMs: 1_000,
        },
      },
    )
    const ids = await submitFor(p, key.key, 'broken', 3)
    await p.drainUntil(
      async () =>
        (await Promise.all(ids.map((id) => p.task(id)))).every(
          (task) => task.callback.state === 'disabled',
        ),
      { deps, timeoutMs: 6_000 },
    )
    // About a second of failures at 100-400 ms apart: a handful of attempts, not 3 × 50.
    expect(broken.received.length).toBeLessThan(20)
    expect(lines.some((line) => line.includes('"event":"callback.endpoint.disabled"'))).toBe(true)

    const admin = { key: ADMIN_KEY }
    const endpoints = (await (
      await p.request(`/admin/keys/${key.id}/endpoints`, admin)
    ).json()) as {
      items: { endpoint: string; disabledAt?: string; failures: number }[]
    }
    expect(endpoints.items).toMatchObject([
      { endpoint: new URL(broken.url).origin, disabledAt: expect.any(String) },
    ])

    // While disabled nothing more is sent.
    const sentWhileDisabled = broken.received.length
    await runPoller(deps, Date.now() + 200)
    expect(broken.received.length).toBe(sentWhileDisabled)

    broken.reply = () => ({ status: 204 })
    const enabled = await p.request(`/admin/keys/${key.id}/endpoints/enable`, {
      method: 'POST',
      ...admin,
    })
    expect(await enabled.json()).toEqual({ enabled: [new URL(broken.url).origin], rescheduled: 3 })
    await p.drainUntil(
      async () =>
        (await Promise.all(ids.map((id) => p.task(id)))).every(
          (task) => task.callback.state === 'delivered',
        ),
      { deps, timeoutMs: 3_000 },
    )
  })
})
