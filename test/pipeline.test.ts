import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SHA256_DIGEST } from './helpers/emulator.ts'
import { postJson } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

/** End to end with real parts: API → embedded DynamoDB → emulator → poller → loopback receiver. */
let p: Pipeline
beforeAll(async () => {
  p = await startPipeline()
})
afterAll(() => p.closeAll())
beforeEach(() => {
  p.receiver.reply = () => ({ status: 204 })
  p.emulator.faults.set([])
})

const ds = { keyTag: 4242, algorithm: 13, digestType: 2, digest: SHA256_DIGEST }
const delivered = (id: string) => async () => (await p.task(id)).callback.state === 'delivered'
const callbacksFor = (id: string) =>
  p.receiver.received.filter((request) => request.id === `msg_${id}`)

describe('end to end', () => {
  it('success: the callback verifies with standardwebhooks and carries the finished task', async () => {
    const submitted = await p.submit('/domains/e2e-ok.com/ds', postJson(ds))
    expect(submitted.status).toBe(202)
    await p.drainUntil(delivered(submitted.id))
    const [callback] = callbacksFor(submitted.id)
    expect(callback).toBeDefined()
    const event = p.receiver.verify(callback!, p.tenant.webhookSecret)
    expect(event.type).toBe('task.succeeded')
    expect(event.data).toMatchObject({
      id: submitted.id,
      status: 'succeeded',
      done: true,
      details: [{ domain: 'e2e-ok.com', status: 'succeeded' }],
    })
    expect(event.timestamp).toBe((await p.task(submitted.id)).completedAt)
    const records = (await (await p.request('/domains/e2e-ok.com/ds')).json()) as {
      records: unknown[]
    }
    expect(records.records).toEqual([ds])
    const log = (await (
      await p.request(`/tasks/${submitted.id}/deliveries`, { key: p.tenant.key })
    ).json()) as {
      webhookId: string
      attempts: { outcome: string; statusCode: number }[]
    }
    expect(log.webhookId).toBe(`msg_${submitted.id}`)
    expect(log.attempts).toMatchObject([{ outcome: 'delivered', statusCode: 204 }])
  })

  it('failure: task.failed with the registry error', async () => {
    const submitted = await p.submit('/domains/fail-e2e.com/ds/sync')
    await p.drainUntil(delivered(submitted.id))
    const event = p.receiver.verify(callbacksFor(submitted.id)[0]!, p.tenant.webhookSecret)
    expect(event.type).toBe('task.failed')
    expect(event.data).toMatchObject({ status: 'failed', error: { code: 'TaskFailed' } })
    expect((event.data.details as { error: string }[])[0]?.error).toContain('rejected the change')
  })

  it('partial batch failure: task.partially_failed with a detail per domain', async () => {
    const submitted = await p.submit(
      '/dns-batch',
      postJson({ domains: ['part-ok.com', 'fail-part.com', 'part-ok2.com'], aliyunDns: true }),
    )
    await p.drainUntil(delivered(submitted.id))
    const event = p.receiver.verify(callbacksFor(submitted.id)[0]!, p.tenant.webhookSecret)
    expect(event.type).toBe('task.partially_failed')
    expect(event.data.details).toEqual([
      { domain: 'part-ok.com', status: 'succeeded' },
      { domain: 'fail-part.com', status: 'failed', error: expect.any(String) },
      { domain: 'part-ok2.com', status: 'succeeded' },
    ])
  })

  it('unknown: a task unfinished after the maximum age is reported', async () => {
    const slow = await startPipeline({ emulatorTaskMs: 60_000 })
    try {
      const submitted = await slow.submit('/domains/slow.com/ds/sync')
      const deps = slow.pollerDeps({}, { maxTaskAgeMs: 150 })
      await slow.drainUntil(
        async () => (await slow.task(submitted.id)).callback.state === 'delivered',
        { deps },
      )
      const event = slow.receiver.verify(slow.receiver.received[0]!, slow.tenant.webhookSecret)
      expect(event.type).toBe('task.unknown')
      expect(event.data).toMatchObject({ status: 'unknown', error: { code: 'TaskTimedOut' } })
    } finally {
      await slow.closeAll()
    }
  })

  it('status moves pending → running → succeeded and never backwards', async () => {
    // The emulator's clock moves only as the test moves it, so each status lasts until the
    // gateway has shown it, however slow the machine: the task waits a minute (longer in the
    // adversarial profile), the clock steps 5 s per drain round while it is pending, and jumps
    // past its end once it is running (within the service's 15-minute timestamp window).
    let offsetMs = 0
    const slow = await startPipeline({
      emulatorTaskMs: 60_000,
      emulator: { now: () => Date.now() + offsetMs },
    })
    try {
      const submitted = await slow.submit('/domains/steps.com/ds/sync')
      const seen: string[] = []
      await slow.drainUntil(async () => {
        const status = (await slow.task(submitted.id)).status
        if (seen.at(-1) !== status) seen.push(status)
        if (status === 'pending') offsetMs += 5_000
        if (status === 'running') offsetMs = 600_000
        return status === 'succeeded'
      })
      expect(seen).toEqual(['pending', 'running', 'succeeded'])
    } finally {
      await slow.closeAll()
    }
  })
})

describe('delivery', () => {
  it('receiver down, then up: delivered later with the same webhook-id', async () => {
    await p.receiver.stop()
    const submitted = await p.submit('/domains/down-up.com/ds/sync')
    await p.drainUntil(async () => (await p.task(submitted.id)).callback.attempts >= 2)
    expect(callbacksFor(submitted.id)).toHaveLength(0)
    await p.receiver.start()
    await p.drainUntil(delivered(submitted.id))
    expect(callbacksFor(submitted.id)).toHaveLength(1)
    const log = await p.deps.deliveries.list(submitted.id)
    expect(log.map((attempt) => attempt.outcome)).toEqual([
      ...log.slice(0, -1).map(() => 'failed'),
      'delivered',
    ])
    expect(new Set(log.map((attempt) => attempt.webhookId))).toEqual(
      new Set([`msg_${submitted.id}`]),
    )
  })

  it('non-2xx answers are failures and retried on the schedule, then exhausted; redeliver sends again', async () => {
    p.receiver.reply = () => ({ status: 500, body: 'x'.repeat(5_000) })
    const submitted = await p.submit('/domains/exhaust.com/ds/sync')
    await p.drainUntil(async () => (await p.task(submitted.id)).callback.state === 'exhausted')
    const log = await p.deps.deliveries.list(submitted.id)
    expect(log).toHaveLength(4)
    expect(log.every((attempt) => attempt.outcome === 'failed' && attempt.statusCode === 500)).toBe(
      true,
    )
    expect(log[0]?.responseSnippet).toHaveLength(2_048)
    expect(callbacksFor(submitted.id)).toHaveLength(4)

    p.receiver.reply = () => ({ status: 200 })
    const redeliver = await p.request(`/tasks/${submitted.id}/deliveries/redeliver`, {
      method: 'POST',
      key: p.tenant.key,
    })
    expect(redeliver.status).toBe(202)
    await p.drainUntil(delivered(submitted.id))
    const ids = new Set(callbacksFor(submitted.id).map((request) => request.id))
    expect(ids).toEqual(new Set([`msg_${submitted.id}`]))
  })

  it('a redirect is a failure and is not followed', async () => {
    p.receiver.reply = () => ({ status: 302, headers: { location: `${p.receiver.url}?moved` } })
    const submitted = await p.submit('/domains/redirect.com/ds/sync')
    await p.drainUntil(async () => (await p.deps.deliveries.list(submitted.id)).length >= 1)
    const [attempt] = await p.deps.deliveries.list(submitted.id)
    expect(attempt).toMatchObject({
      outcome: 'failed',
      statusCode: 302,
      error: 'redirects are not followed',
    })
    // One request per attempt (a run may have retried already): the Location was never requested.
    const attempts = await p.deps.deliveries.list(submitted.id)
    expect(callbacksFor(submitted.id)).toHaveLength(attempts.length)
  })

  it('410 Gone stops delivery to that URL', async () => {
    p.receiver.reply = () => ({ status: 410 })
    const submitted = await p.submit('/domains/gone.com/ds/sync')
    await p.drainUntil(async () => (await p.task(submitted.id)).callback.state === 'gone')
    await p.drainUntil(() => true)
    expect(callbacksFor(submitted.id)).toHaveLength(1)
    expect((await p.task(submitted.id)).dueAt).toBeUndefined()
  })

  it('Retry-After on 429 is honoured instead of the schedule', async () => {
    p.receiver.reply = () => ({ status: 429, headers: { 'retry-after': '2' } })
    const submitted = await p.submit('/domains/retry-after.com/ds/sync')
    await p.drainUntil(
      async () =>
        (await p.task(submitted.id)).callback.attempts >= 1 &&
        (await p.task(submitted.id)).callback.state === 'scheduled',
    )
    const task = await p.task(submitted.id)
    const wait = Date.parse(task.callback.nextAttemptAt!) - Date.parse(task.callback.lastAttemptAt!)
    expect(wait).toBeGreaterThanOrEqual(1_900)
    expect(wait).toBeLessThan(3_000)
  })

  it('an attempt that times out is a failure', async () => {
    p.receiver.reply = () => ({ status: 200, delayMs: 1_500 })
    const submitted = await p.submit('/domains/timeout.com/ds/sync')
    const deps = p.pollerDeps({}, { callbackTimeoutMs: 200 })
    const fast = (await import('#shared/webhooks/send-webhook.ts')).sendWebhook
    const { createGuardedAgent } = await import('#shared/webhooks/guarded-agent.ts')
    const agent = await createGuardedAgent({ allowLoopback: true, allowlist: [] })
    const timed = {
      ...deps,
      sendWebhook: (message: Parameters<typeof fast>[0]) =>
        fast(message, { dispatcher: agent, timeoutMs: 200, now: Date.now, allowHttp: true }),
    }
    await p.drainUntil(async () => (await p.deps.deliveries.list(submitted.id)).length >= 1, {
      deps: timed,
    })
    const [attempt] = await p.deps.deliveries.list(submitted.id)
    expect(attempt).toMatchObject({ outcome: 'failed', error: 'timed out after 200 ms' })
  })

  it('during a secret rotation both secrets sign, so either verifies', async () => {
    const key = await p.newKey('rotating', ['sync:write', 'tasks:read'], p.receiver.url)
    const adminKey = p.env.ADMIN_API_KEY as string
    const rotated = await p.request(`/admin/keys/${key.id}/webhook-secret/rotate`, {
      ...postJson({ graceSeconds: 600 }),
      key: adminKey,
    })
    const { webhookSecret: newSecret } = (await rotated.json()) as { webhookSecret: string }
    const response = await p.request('/domains/rotation.com/ds/sync', {
      method: 'POST',
      key: key.key,
    })
    const { id } = (await response.json()) as { id: string }
    await p.drainUntil(delivered(id))
    const [callback] = callbacksFor(id)
    expect(String(callback?.headers['webhook-signature']).split(' ')).toHaveLength(2)
    expect(p.receiver.verify(callback!, key.webhookSecret).type).toBe('task.succeeded')
    expect(p.receiver.verify(callback!, newSecret).type).toBe('task.succeeded')
  })
})
