import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FaultRuleInput } from '#infra/emulator/faults.ts'
import type { RunningEmulator } from '#infra/emulator/server.ts'
import { clientFor, SHA256_DIGEST, startTestEmulator } from './helpers/emulator.ts'
import { upstreamRejection } from './helpers/rejection.ts'

let emulator: RunningEmulator
beforeEach(async () => {
  emulator = await startTestEmulator({ account: { taskMs: 60_000 } })
})
afterEach(() => emulator.close())

const ADD = 'SaveSingleTaskForAddingDSRecord'
const addDs = (domainName = 'example.com') => ({
  domainName,
  keyTag: 1,
  algorithm: 13,
  digestType: 2,
  digest: SHA256_DIGEST,
})

function fault(rule: FaultRuleInput) {
  emulator.faults.set([rule])
}

const rejection = upstreamRejection

const tasksAtEmulator = () => emulator.account.tasks.size

describe('client fault classification against the emulator', () => {
  it('throttling is retryable: a write is retried with a new nonce and creates exactly one task', async () => {
    fault({ kind: 'throttle', count: 2, actions: [ADD] })
    const result = await clientFor(emulator).addDsRecord(addDs())
    expect(result.taskNo).toBeTruthy()
    expect(tasksAtEmulator()).toBe(1)
    expect(emulator.faults.list()[0]?.fired).toBe(2)
  })

  it('throttling that does not stop surfaces as a retryable Throttling error after the retries', async () => {
    fault({ kind: 'throttle' })
    const error = await rejection(clientFor(emulator).addDsRecord(addDs()))
    expect(error).toMatchObject({
      code: 'Throttling.User',
      retryability: 'retryable',
      httpStatus: 400,
    })
    expect(tasksAtEmulator()).toBe(0)
  })

  it('NetworkIOError (400) on a Save* is ambiguous: never resent; the task may exist', async () => {
    for (const phase of ['after', 'before'] as const) {
      fault({ kind: 'networkIoError', phase, count: 1, actions: [ADD] })
      const before = tasksAtEmulator()
      const error = await rejection(clientFor(emulator).addDsRecord(addDs(`nio-${phase}.com`)))
      expect(error).toMatchObject({
        code: 'NetworkIOError',
        httpStatus: 400,
        retryability: 'ambiguous',
      })
      expect(emulator.faults.list()[0]?.fired).toBe(1)
      // After the action ran, the task exists although the client cannot know it; before, not.
      expect(tasksAtEmulator() - before).toBe(phase === 'after' ? 1 : 0)
    }
  })

  it('NetworkIOError on a read is retried', async () => {
    fault({ kind: 'networkIoError', count: 2, actions: ['QueryDSRecord'] })
    const answer = await clientFor(emulator).queryDsRecord({ domainName: 'nio-read.com' })
    expect(answer.records).toEqual([])
    expect(emulator.faults.list()[0]?.fired).toBe(2)
  })

  it('a 503 on a read is retryable', async () => {
    fault({ kind: 'unavailable', actions: ['QueryDSRecord'] })
    const error = await rejection(
      clientFor(emulator, { ALIYUN_READ_RETRIES: '1' }).queryDsRecord({ domainName: 'a.com' }),
    )
    expect(error).toMatchObject({
      code: 'ServiceUnavailable',
      httpStatus: 503,
      retryability: 'retryable',
    })
    expect(emulator.faults.list()[0]?.fired).toBe(2)
  })

  it('a 5xx after a Save* request was sent is ambiguous and never retried: the task exists', async () => {
    fault({ kind: 'error5xx', actions: [ADD] })
    const error = await rejection(clientFor(emulator).addDsRecord(addDs()))
    expect(error).toMatchObject({
      code: 'InternalError',
      httpStatus: 500,
      retryability: 'ambiguous',
    })
    expect(tasksAtEmulator()).toBe(1)
  })

  it('a 5xx without a body is an error, not a success (unlike pop-core)', async () => {
    fault({ kind: 'error5xxEmpty', status: 502, actions: [ADD] })
    const error = await rejection(clientFor(emulator).addDsRecord(addDs()))
    expect(error).toMatchObject({ code: 'Http502', httpStatus: 502, retryability: 'ambiguous' })
    expect(error.message).toContain('empty body')
  })

  it('a read is retried through a 5xx and succeeds', async () => {
    fault({ kind: 'error5xx', count: 2, actions: ['QueryDSRecord'] })
    const result = await clientFor(emulator).queryDsRecord({ domainName: 'a.com' })
    expect(result.records).toEqual([])
  })

  it('a connection reset after sending a write is ambiguous; a read is retried', async () => {
    fault({ kind: 'reset', count: 1 })
    const error = await rejection(clientFor(emulator).addDsRecord(addDs()))
    expect(error).toMatchObject({ code: 'NetworkError', retryability: 'ambiguous' })
    expect(tasksAtEmulator()).toBe(1)
    fault({ kind: 'reset', count: 1 })
    await expect(clientFor(emulator).queryDsRecord({ domainName: 'a.com' })).resolves.toBeTruthy()
  })

  it('a slow body past the timeout is an ambiguous RequestTimeout for a write', async () => {
    fault({ kind: 'slowBody', ms: 1_500, actions: [ADD] })
    const error = await rejection(
      clientFor(emulator, { ALIYUN_TIMEOUT_MS: '300' }).addDsRecord(addDs()),
    )
    expect(error).toMatchObject({ code: 'RequestTimeout', retryability: 'ambiguous' })
  })

  it('a slow body within the timeout is read in full', async () => {
    fault({ kind: 'slowBody', ms: 100, actions: [ADD] })
    await expect(clientFor(emulator).addDsRecord(addDs())).resolves.toHaveProperty('taskNo')
  })

  it('added latency delays but does not fail', async () => {
    fault({ kind: 'latency', ms: 150 })
    const started = performance.now()
    await clientFor(emulator).queryDsRecord({ domainName: 'a.com' })
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('a malformed body after a write is ambiguous; after a read it is retried', async () => {
    fault({ kind: 'malformed', count: 1 })
    const error = await rejection(clientFor(emulator).addDsRecord(addDs()))
    expect(error).toMatchObject({ code: 'MalformedResponse', retryability: 'ambiguous' })
    fault({ kind: 'malformed', count: 1 })
    await expect(clientFor(emulator).queryDsRecord({ domainName: 'a.com' })).resolves.toBeTruthy()
  })

  it('a refused connection happens before sending, so even a write is retryable', async () => {
    const url = emulator.url
    await emulator.close()
    const error = await rejection(clientFor({ url }).addDsRecord(addDs()))
    expect(error).toMatchObject({ code: 'NetworkError', retryability: 'retryable' })
    emulator = await startTestEmulator()
  })

  it('final errors (bad parameters, bad credentials) are not retried', async () => {
    const bad = await rejection(
      clientFor(emulator, { ALIYUN_ACCESS_KEY_SECRET: 'wrong' }).queryDsRecord({
        domainName: 'a.com',
      }),
    )
    expect(bad).toMatchObject({ code: 'SignatureDoesNotMatch', retryability: 'final' })
  })

  it('faults can be set through the control endpoint', async () => {
    const response = await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'PUT',
      body: JSON.stringify([{ kind: 'throttle', rate: 1, actions: ['QueryDSRecord'] }]),
    })
    expect(response.status).toBe(200)
    const error = await rejection(
      clientFor(emulator, { ALIYUN_READ_RETRIES: '0' }).queryDsRecord({ domainName: 'a.com' }),
    )
    expect(error.code).toBe('Throttling.User')
    const invalid = await fetch(`${emulator.url}/__emulator/faults`, {
      method: 'PUT',
      body: '[{"kind":"nope"}]',
    })
    expect(invalid.status).toBe(400)
  })
})
