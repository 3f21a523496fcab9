import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  classifyErrorResponse,
  codeClass,
  Retryability,
  UPSTREAM_CODES,
} from '#shared/aliyun/upstream-error.ts'
import { upstreamTasksFor } from './helpers/emulator.ts'
import { type Pipeline, QUICK_ABSENCE, QUICK_EMULATOR, startPipeline } from './helpers/pipeline.ts'

/**
 * Each class of upstream error code, end to end: what the gateway answers, what it does next, and
 * how many times the domain was changed. The emulator produces each code on a `Save*`, before the
 * action runs (a refusal) or after it ran (the answer lost or replaced).
 */
const SYNC = 'SaveSingleTaskForSynchronizingDSRecord'

describe('the code table', () => {
  it('classifies every known code, and an unknown code on a Save* as possibly executed', () => {
    for (const [code, known] of Object.entries(UPSTREAM_CODES)) {
      expect(codeClass(code), code).toBe(known.class)
      expect(known.source.length, code).toBeGreaterThan(0)
    }
    expect(classifyErrorResponse('write', 400, 'SignatureNonceUsed')).toBe(Retryability.ambiguous)
    expect(classifyErrorResponse('read', 400, 'SignatureNonceUsed')).toBe(Retryability.retryable)
    expect(classifyErrorResponse('write', 400, 'Some.NewCode')).toBe(Retryability.ambiguous)
    expect(classifyErrorResponse('read', 400, 'Some.NewCode')).toBe(Retryability.final)
    expect(classifyErrorResponse('write', 400, 'MissingDomainName')).toBe(Retryability.final)
    for (const code of [
      'Throttling',
      'Throttling.User',
      'Throttling.Api',
      'Rejected.Throttling',
      'Throttling.ConcurrentLimitExceeded',
    ]) {
      expect(classifyErrorResponse('write', 400, code), code).toBe(Retryability.retryable)
    }
  })
})

let p: Pipeline
beforeAll(async () => {
  p = await startPipeline({ emulatorTaskMs: 30, emulator: QUICK_EMULATOR })
})
afterAll(() => p.closeAll())
beforeEach(() => p.emulator.faults.set([]))

const finalStatus = async (id: string) => {
  await p.drainUntil(
    async () => ['succeeded', 'failed', 'rejected'].includes((await p.task(id)).status),
    { deps: p.pollerDeps({}, QUICK_ABSENCE), timeoutMs: 15_000 },
  )
  return p.task(id)
}

describe('refused before execution, flow control: sent again', () => {
  for (const code of ['Rejected.Throttling', 'Throttling.ConcurrentLimitExceeded', 'Throttling']) {
    it(`${code}: retried by the client, accepted, the domain changed once`, async () => {
      const domain = `retry-${code.toLowerCase().replace(/\./g, '-')}.com`
      p.emulator.faults.set([{ kind: 'code', code, count: 2, actions: [SYNC] }])
      const answer = await p.submit(`/domains/${domain}/ds/sync`)
      expect(answer.status).toBe(202)
      expect(answer.body.status).toBe('pending')
      expect((await finalStatus(answer.id)).status).toBe('succeeded')
      expect(upstreamTasksFor(p.emulator, domain)).toHaveLength(1)
    })
  }
})

describe('refused before execution, final', () => {
  it('InvalidParameter: 422, the task rejected with the code, nothing upstream', async () => {
    p.emulator.faults.set([{ kind: 'code', code: 'InvalidParameter', count: 1, actions: [SYNC] }])
    const answer = await p.submit('/domains/final-refusal.com/ds/sync')
    expect(answer.status).toBe(422)
    expect(answer.body).toMatchObject({ upstreamCode: 'InvalidParameter' })
    const task = await p.task(answer.id)
    expect(task).toMatchObject({ status: 'rejected', error: { code: 'InvalidParameter' } })
    expect(upstreamTasksFor(p.emulator, 'final-refusal.com')).toHaveLength(0)
  })
})

describe('may have executed: looked up, never sent blindly again', () => {
  it('SignatureNonceUsed after a copy of the request ran: 202, the copy adopted, the domain changed once', async () => {
    p.emulator.faults.set([{ kind: 'duplicateDelivery', count: 1, actions: [SYNC] }])
    const answer = await p.submit('/domains/nonce-replay.com/ds/sync')
    expect(answer.status).toBe(202)
    expect(answer.body.status).toBe('submitting')
    const task = await finalStatus(answer.id)
    expect(task.status).toBe('succeeded')
    const upstream = upstreamTasksFor(p.emulator, 'nonce-replay.com')
    expect(upstream).toHaveLength(1)
    expect(task.upstream.taskNo).toBe(upstream[0]?.taskNo)
  })

  it('an unknown code after the action ran: 202, adopted, the domain changed once', async () => {
    p.emulator.faults.set([
      { kind: 'code', code: 'Some.NewCode', phase: 'after', count: 1, actions: [SYNC] },
    ])
    const answer = await p.submit('/domains/unknown-after.com/ds/sync')
    expect(answer.status).toBe(202)
    expect(answer.body.status).toBe('submitting')
    const task = await finalStatus(answer.id)
    expect(task.status).toBe('succeeded')
    expect(upstreamTasksFor(p.emulator, 'unknown-after.com')).toHaveLength(1)
  })

  it('an unknown code before the action ran: 202, proven absent, sent again, the domain changed once', async () => {
    p.emulator.faults.set([{ kind: 'code', code: 'Some.NewCode', count: 1, actions: [SYNC] }])
    const answer = await p.submit('/domains/unknown-before.com/ds/sync')
    expect(answer.status).toBe(202)
    expect(answer.body.status).toBe('submitting')
    const task = await finalStatus(answer.id)
    expect(task).toMatchObject({ status: 'succeeded', resends: 1 })
    expect(upstreamTasksFor(p.emulator, 'unknown-before.com')).toHaveLength(1)
  })
})
