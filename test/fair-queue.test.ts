import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALL_SCOPES } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

/**
 * A tenant's share of a domain's queue is bounded below the queue's own bound, so one tenant's
 * backlog never refuses another tenant's request.
 */
let p: Pipeline
let other: { key: string }
beforeAll(async () => {
  p = await startPipeline({
    emulatorTaskMs: 40,
    env: { QUEUE_MAX_PER_TARGET: '4', QUEUE_MAX_PER_TENANT: '2' },
  })
  other = await p.newKey('other-tenant', ALL_SCOPES, p.receiver.url)
})
afterAll(() => p.closeAll())

const sync = async (domain: string, key: string) => {
  const response = await p.request(`/domains/${domain}/ds/sync`, { method: 'POST', key })
  const body = (await response.json()) as { id: string; status: string; type?: string }
  return { status: response.status, body }
}

describe('fair shares of a domain queue', () => {
  it("a tenant that used its share gets 429; another tenant's request is still queued", async () => {
    const domain = 'shared-queue.com'
    const holder = await sync(domain, p.tenant.key)
    expect(holder.body.status).toBe('pending')
    const mine = [await sync(domain, p.tenant.key), await sync(domain, p.tenant.key)]
    expect(mine.map((answer) => answer.body.status)).toEqual(['queued', 'queued'])
    const third = await sync(domain, p.tenant.key)
    expect(third.status).toBe(429)
    expect(third.body.type).toBe('/docs#problem-queue-full')
    // The other tenant's share is untouched.
    const theirs = [await sync(domain, other.key), await sync(domain, other.key)]
    expect(theirs.map((answer) => answer.body.status)).toEqual(['queued', 'queued'])
    expect((await sync(domain, other.key)).status).toBe(429)
    const ids = [holder, ...mine, ...theirs].map((answer) => answer.body.id)
    await p.drainUntil(
      async () =>
        (await Promise.all(ids.map((id) => p.task(id)))).every(
          (task) => task.status === 'succeeded',
        ),
      { timeoutMs: 20_000 },
    )
    // The counts went back with the tickets: the share is whole again.
    const state = await p.deps.targetLocks.read(domain)
    expect(state.waiters).toEqual([])
    const holderAgain = await sync(domain, p.tenant.key)
    const again = [await sync(domain, p.tenant.key), await sync(domain, p.tenant.key)]
    expect([holderAgain, ...again].map((answer) => answer.status)).toEqual([202, 202, 202])
    expect((await sync(domain, p.tenant.key)).status).toBe(429)
  })
})
