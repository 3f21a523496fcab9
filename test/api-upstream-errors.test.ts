import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createLogger } from '#shared/logger.ts'
import { TEST_CREDENTIAL } from './helpers/emulator.ts'
import { type Harness, postJson, startHarness } from './helpers/gateway.ts'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
})
afterAll(() => h.close())
beforeEach(() => h.emulator.faults.set([]))

const SYNC = 'SaveSingleTaskForSynchronizingDSRecord'
const sync = (domain: string) => h.request(`/domains/${domain}/ds/sync`, { method: 'POST' })

async function taskOf(id: string) {
  return (await (await h.request(`/tasks/${id}`)).json()) as {
    status: string
    error?: { code: string }
  }
}

describe('upstream errors map to clear statuses', () => {
  it('a refused parameter (DomainNotExist) → 422 with the upstream code; the task is rejected', async () => {
    const response = await sync('unregistered-thing.com')
    expect(response.status).toBe(422)
    const body = (await response.json()) as { upstreamCode: string; taskId: string; detail: string }
    expect(body).toMatchObject({
      upstreamCode: 'DomainNotExist',
      detail: expect.stringContaining('does not exist'),
    })
    expect(await taskOf(body.taskId)).toMatchObject({
      status: 'rejected',
      error: { code: 'DomainNotExist' },
    })
  })

  it('TaskIsBeingProcessed (a task started outside the gateway) → 202 queued, never 409', async () => {
    // A task started in the console: the gateway knows nothing of it.
    h.emulator.account.submit(
      { type: 'syncDs', domain: 'busy-domain.com' },
      '127.0.0.1',
      Date.now(),
    )
    const response = await sync('busy-domain.com')
    expect(response.status).toBe(202)
    const body = (await response.json()) as { id: string }
    expect(body).toMatchObject({
      status: 'queued',
      queue: { reason: 'upstream-busy', checks: 0 },
      upstream: {},
    })
    // It holds the domain meanwhile: the next submission waits behind it, sending nothing.
    const next = await sync('busy-domain.com')
    expect(await next.json()).toMatchObject({ status: 'queued', queue: { reason: 'target-busy' } })
  })

  it('throttling → 429 with Retry-After, after the client retried', async () => {
    h.emulator.faults.set([{ kind: 'throttle', actions: [SYNC] }])
    const response = await sync('throttled.com')
    expect(response.status).toBe(429)
    expect(response.headers.get('retry-after')).toBe('5')
    expect(h.emulator.faults.list()[0]?.fired).toBe(3)
  })

  it('a 503 ServiceUnavailable on a Save* proves nothing: 202 submitting, sent exactly once', async () => {
    h.emulator.faults.set([{ kind: 'unavailable', actions: [SYNC] }])
    const response = await sync('unavailable.com')
    expect(response.status).toBe(202)
    expect(await response.json()).toMatchObject({ status: 'submitting' })
    expect(h.emulator.faults.list()[0]?.fired).toBe(1)
  })

  it('upstream unreachable (connection refused before sending) → 503 with Retry-After', async () => {
    const refused = await startHarness({ env: { ALIYUN_ENDPOINT: 'http://127.0.0.1:9' } })
    try {
      const response = await refused.request('/domains/refused.com/ds/sync', { method: 'POST' })
      expect(response.status).toBe(503)
      expect(response.headers.get('retry-after')).toBeTruthy()
      expect(await response.json()).toMatchObject({ title: 'Alibaba Cloud unavailable' })
    } finally {
      await refused.close()
    }
  })

  it('a 5xx after sending → 202 with the task left submitting (never resubmitted)', async () => {
    h.emulator.faults.set([{ kind: 'error5xx', actions: [SYNC] }])
    const before = h.emulator.account.tasks.size
    const response = await sync('ambiguous.com')
    expect(response.status).toBe(202)
    const body = (await response.json()) as {
      id: string
      status: string
      upstream: { taskNo?: string }
    }
    expect(body.status).toBe('submitting')
    expect(body.upstream.taskNo).toBeUndefined()
    expect(h.emulator.account.tasks.size).toBe(before + 1)
    expect((await taskOf(body.id)).status).toBe('submitting')
  })

  it('the read-through GET maps upstream errors too', async () => {
    h.emulator.faults.set([{ kind: 'throttle', actions: ['QueryDSRecord'] }])
    expect((await h.request('/domains/read.com/ds')).status).toBe(429)
    h.emulator.faults.set([])
    expect((await h.request('/domains/unregistered-read.com/ds')).status).toBe(422)
  })
})

describe('a gateway misconfigured for Alibaba Cloud', () => {
  let broken: Harness
  const logLines: string[] = []
  beforeAll(async () => {
    broken = await startHarness({
      env: { ALIYUN_ACCESS_KEY_SECRET: 'not-the-emulator-secret' },
      overrides: { logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }) },
    })
  })
  afterAll(() => broken.close())

  it('answers 502 without echoing the StringToSign or any secret', async () => {
    const response = await broken.request('/domains/example.com/ds/sync', postJson({}))
    expect(response.status).toBe(502)
    const text = await response.text()
    expect(text).toContain('SignatureDoesNotMatch')
    expect(text).not.toContain('string to sign')
    expect(text).not.toContain('not-the-emulator-secret')
  })

  it('the task a tenant reads holds a generic message: no AccessKeyId, no StringToSign', async () => {
    const response = await broken.request('/domains/ws1.com/ds/sync', postJson({}))
    expect(response.status).toBe(502)
    const { taskId } = (await response.json()) as { taskId: string }
    const task = await (await broken.request(`/tasks/${taskId}`)).text()
    expect(JSON.parse(task)).toMatchObject({
      status: 'rejected',
      error: {
        code: 'SignatureDoesNotMatch',
        message: "Alibaba Cloud refused the gateway's own credentials, clock or signature.",
      },
    })
    for (const leak of [TEST_CREDENTIAL.accessKeyId, 'AccessKeyId', 'string to sign', 'POST&']) {
      expect(task).not.toContain(leak)
    }
    const listed = await (await broken.request('/tasks')).text()
    expect(listed).not.toContain(TEST_CREDENTIAL.accessKeyId)
  })

  it('operators see the detail in the logs, with the key id redacted', async () => {
    logLines.length = 0
    await broken.request('/domains/ws2.com/ds/sync', postJson({}))
    const all = logLines.join('\n')
    expect(all).toContain('SignatureDoesNotMatch')
    expect(all).not.toContain(TEST_CREDENTIAL.accessKeyId)
  })
})
