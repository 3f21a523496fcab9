import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { ADMIN_KEY } from './helpers/gateway.ts'
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
    // Its own pipeline, with the longest send timeout: the slow receiver answers nothing until
    // the test lets it, so its deliveries hang for as long as the test looks, however busy the
    // machine (the verdict is an order of events, not a time).
    const timeout = 30_000
    const q = await startPipeline({
      emulatorTaskMs: 20,
      env: { CALLBACK_TIMEOUT_MS: String(timeout) },
    })
    closers.push(q.closeAll)
    let letGo = () => {}
    const held = new Promise<void>((resolve) => {
      letGo = resolve
    })
    slow.reply = () => ({ status: 204, until: held })
    const slowKey = await q.newKey('slow-tenant', ['sync:write', 'tasks:read'], slow.url)
    const hanging = await submitFor(q, slowKey.key, 'hangs', 20)
    const ordinary = await submitFor(q, q.tenant.key, 'ordinary', 5)
    const deps = q.pollerDeps(
      {},
      { callbackPerEndpoint: 2, callbackConcurrency: 32, callbackTimeoutMs: timeout },
    )
    // One run, as the scheduled poller makes it (a long one; it waits for its deliveries at the end).
    const run = runPoller(deps, Date.now() + timeout)
    const delivered = async () =>
      (await Promise.all(ordinary.map((id) => q.task(id)))).every(
        (task) => task.callback.state === 'delivered',
      )
    while (!(await delivered())) await new Promise((resolve) => setTimeout(resolve, 20))
    // Twenty hanging deliveries fill any fixed pool of workers (16) for as long as they hang; the
    // other tenant's five went out while the first two still hung, unanswered, and no other
    // delivery to the hanging endpoint had started.
    expect(slow.received.length).toBe(2)
    const stillHanging = await Promise.all(hanging.map((id) => q.task(id)))
    expect(stillHanging.filter((task) => task.callback.state === 'delivered')).toEqual([])
    letGo()
    await run
    expect(slow.received.length).toBe(20)
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
