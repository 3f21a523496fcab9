import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runPoller } from '#shared/poller/run-poller.ts'
import { upstreamTasksFor } from './helpers/emulator.ts'
import { ALL_SCOPES } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

/**
 * A request answered 4xx leaves nothing that can run later: no change, no step, no task, no
 * ticket, and nothing upstream. The winner of a race runs exactly once.
 */
let p: Pipeline
let other: { id: string; key: string; webhookSecret: string }
beforeAll(async () => {
  p = await startPipeline({
    emulatorTaskMs: 30,
    env: { QUEUE_MAX_PER_TARGET: '3', CHANGE_RECHECK_SECONDS: '1' },
  })
  other = await p.newKey('rival', ALL_SCOPES, p.receiver.url)
})
afterAll(() => p.closeAll())
beforeEach(() => {
  p.receiver.reply = () => ({ status: 204 })
  p.emulator.faults.set([])
})

const K1 = { keyTag: 11111, algorithm: 13, digestType: 2, digest: 'a'.repeat(64) }
const K2 = { keyTag: 22222, algorithm: 13, digestType: 2, digest: 'b'.repeat(64) }

const put = (path: string, body: unknown, key: string) =>
  p.request(path, { method: 'PUT', key, body: JSON.stringify(body) })
// biome-ignore lint/suspicious/noExplicitAny: the tests read answers' JSON loosely
const json = async (response: Response) => (await response.json()) as Record<string, any>
const tasksOf = async (key: string, domain: string) =>
  (await json(await p.request(`/tasks?domain=${domain}&limit=100`, { key }))).items as unknown[]
const changeDone = (id: string, key: string) => async () =>
  (await json(await p.request(`/changes/${id}`, { key }))).done === true

/**
 * Runs pollers past the moment a change left running would fall due again (the change recheck,
 * 1 s here) and its steps' turn: anything a refused request left would be written and sent now.
 */
async function settleLeftovers(): Promise<void> {
  const until = Date.now() + 2_500
  while (Date.now() < until) await runPoller(p.pollerDeps(), Date.now() + 100)
}

describe('a refused change leaves nothing that runs', () => {
  it('two tenants racing PUTs on 20 domains: one 202 and one 409 each; the loser has no task, nothing runs for it, the winner runs once', async () => {
    const domains = Array.from({ length: 20 }, (_, i) => `race-${i}.com`)
    const answers = await Promise.all(
      domains.map(async (domain) => {
        const [a, b] = await Promise.all([
          put(`/domains/${domain}/ds`, { records: [K1] }, p.tenant.key),
          put(`/domains/${domain}/ds`, { records: [K2] }, other.key),
        ])
        return {
          domain,
          a: { status: a.status, body: await json(a) },
          b: { status: b.status, body: await json(b) },
        }
      }),
    )
    const winners: { domain: string; changeId: string; key: string; loserKey: string }[] = []
    for (const { domain, a, b } of answers) {
      expect([a.status, b.status].sort()).toEqual([202, 409])
      const [won, lost] = a.status === 202 ? [a, b] : [b, a]
      expect(lost.body.type).toBe('/docs#problem-conflict')
      winners.push({
        domain,
        changeId: won.body.id,
        key: a.status === 202 ? p.tenant.key : other.key,
        loserKey: a.status === 202 ? other.key : p.tenant.key,
      })
    }
    await p.drainUntil(
      async () =>
        (await Promise.all(winners.map((w) => changeDone(w.changeId, w.key)()))).every(Boolean),
      { timeoutMs: 30_000 },
    )
    await settleLeftovers()
    for (const { domain, changeId, key, loserKey } of winners) {
      const change = await json(await p.request(`/changes/${changeId}`, { key }))
      expect(change.status).toBe('succeeded')
      expect(await tasksOf(loserKey, domain)).toEqual([])
      expect(await tasksOf(key, domain)).toHaveLength(1)
      // Exactly one registry task for the domain: the winner's one add.
      expect(upstreamTasksFor(p.emulator, domain).map((task) => task.kind.type)).toEqual(['addDs'])
    }
    // Forty PUTs with their checks and changes: ~9 s on dynalite, 20–30 on moto_server alone.
  }, 120_000)

  it('a PUT refused with 429 (the queue is full) leaves no change, no task, no ticket, and does not take the domain', async () => {
    const domain = 'full-put.com'
    const holder = await p.submit(`/domains/${domain}/ds/sync`)
    const queued: { id: string; body: Record<string, unknown> }[] = []
    for (let i = 0; i < 3; i++) queued.push(await p.submit(`/domains/${domain}/ds/sync`))
    expect(queued.map((answer) => answer.body.status)).toEqual(['queued', 'queued', 'queued'])
    // Another tenant's desired state: two steps, no room for them.
    p.emulator.account.dsRecords.set(domain, [K1])
    const refused = await put(`/domains/${domain}/ds`, { records: [K2] }, other.key)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
    // The dry run right after plans against the registry: nothing refused is in its way.
    const plan = await json(
      await put(`/domains/${domain}/ds?dryRun=true`, { records: [K2] }, other.key),
    )
    expect(plan.plan).toEqual({ add: [K2], remove: [K1], keep: [] })
    await p.drainUntil(
      async () =>
        (await Promise.all([holder, ...queued].map((answer) => p.task(answer.id)))).every(
          (task) => task.status === 'succeeded',
        ),
      { timeoutMs: 15_000 },
    )
    await settleLeftovers()
    expect(await tasksOf(other.key, domain)).toEqual([])
    expect(upstreamTasksFor(p.emulator, domain).map((task) => task.kind.type)).toEqual([
      'syncDs',
      'syncDs',
      'syncDs',
      'syncDs',
    ])
    expect((await p.deps.targetLocks.read(domain)).waiters).toEqual([])
    // The refusal did not make the other tenant the domain's manager: this tenant may apply.
    const mine = await put(`/domains/${domain}/ds`, { records: [K1, K2] }, p.tenant.key)
    expect(mine.status).toBe(202)
    const change = await json(mine)
    await p.drainUntil(changeDone(change.id, p.tenant.key))
  })

  it('a POST refused with 429 leaves no task and no ticket', async () => {
    const domain = 'full-post.com'
    const holder = await p.submit(`/domains/${domain}/ds/sync`)
    for (let i = 0; i < 3; i++) await p.submit(`/domains/${domain}/ds/sync`)
    const refused = await p.request(`/domains/${domain}/ds`, {
      method: 'POST',
      key: other.key,
      body: JSON.stringify(K1),
    })
    expect(refused.status).toBe(429)
    expect(await tasksOf(other.key, domain)).toEqual([])
    const state = await p.deps.targetLocks.read(domain)
    expect(state.holder).toBe(holder.id)
    expect(state.waiters).toHaveLength(3)
  })

  it('a proposal left behind by a stopped process is withdrawn by the poller and never runs', async () => {
    const domain = 'left-behind.com'
    // The process stops right after the domain is named: the acceptance write never happens.
    const replace = p.deps.changes.replace.bind(p.deps.changes)
    p.deps.changes.replace = async (next, version) => {
      if (next.domain === domain && next.status === 'running') throw new Error('process stopped')
      return replace(next, version)
    }
    try {
      const answer = await put(`/domains/${domain}/ds`, { records: [K1] }, p.tenant.key)
      expect(answer.status).toBe(500)
    } finally {
      p.deps.changes.replace = replace
    }
    // The domain names the proposal as in flight: a new PUT is told to retry, nothing else.
    expect((await put(`/domains/${domain}/ds`, { records: [K1] }, other.key)).status).toBe(409)
    // After its acceptance window the poller withdraws it: tickets back, domain free.
    await p.drainUntil(async () => (await p.deps.targetLocks.read(domain)).waiters.length === 0, {
      timeoutMs: 10_000,
    })
    await p.drainUntil(async () => !(await p.deps.domainStates.get(domain))?.open?.ds, {
      timeoutMs: 10_000,
    })
    expect(await tasksOf(p.tenant.key, domain)).toEqual([])
    expect(upstreamTasksFor(p.emulator, domain)).toEqual([])
    const again = await put(`/domains/${domain}/ds`, { records: [K1] }, p.tenant.key)
    expect(again.status).toBe(202)
    const change = await json(again)
    await p.drainUntil(changeDone(change.id, p.tenant.key))
    expect(upstreamTasksFor(p.emulator, domain).map((task) => task.kind.type)).toEqual(['addDs'])
  })
})
