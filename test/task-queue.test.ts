import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadSettings } from '#shared/composition/settings.ts'
import { createStores } from '#shared/store/stores.ts'
import { ticketOf } from '#shared/tasks/target-locks.ts'
import { newTask, toIntent } from '#shared/tasks/task-states.ts'
import { SHA256_DIGEST, upstreamTasksFor } from './helpers/emulator.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

let p: Pipeline
beforeAll(async () => {
  p = await startPipeline({ emulatorTaskMs: 40, env: { QUEUE_MAX_PER_TARGET: '3' } })
})
afterAll(() => p.closeAll())
beforeEach(() => {
  p.receiver.reply = () => ({ status: 204 })
  p.emulator.faults.set([])
})

const ds = (keyTag: number) => ({
  keyTag,
  algorithm: 13,
  digestType: 2,
  digest: SHA256_DIGEST.replace(/^./, String(keyTag % 10)),
})
const post = (body: unknown) => ({ method: 'POST', body: JSON.stringify(body) })
const upstreamFor = (domain: string) => upstreamTasksFor(p.emulator, domain)
const allFinal = (ids: string[]) => async () =>
  (await Promise.all(ids.map((id) => p.task(id)))).every((task) =>
    ['succeeded', 'failed', 'rejected', 'unknown', 'partially_failed'].includes(task.status),
  )

describe('the per-domain queue', () => {
  it('two adds for one domain back to back: both 202, both succeed, in order, no 409', async () => {
    const first = await p.submit('/domains/two-adds.com/ds', post(ds(1001)))
    const second = await p.submit('/domains/two-adds.com/ds', post(ds(1002)))
    expect([first.status, second.status]).toEqual([202, 202])
    expect(first.body.status).toBe('pending')
    expect(second.body).toMatchObject({ status: 'queued', queue: { reason: 'target-busy' } })
    await p.drainUntil(allFinal([first.id, second.id]))
    const [a, b] = [await p.task(first.id), await p.task(second.id)]
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded'])
    const sent = upstreamFor('two-adds.com')
    expect(sent.map((task) => task.taskNo)).toEqual([a.upstream.taskNo, b.upstream.taskNo])
    expect(p.emulator.account.dsRecords.get('two-adds.com')?.map((r) => r.keyTag)).toEqual([
      1001, 1002,
    ])
    // Each finished task was reported; the queued one's webhook says it succeeded.
    await p.drainUntil(() =>
      [first.id, second.id].every((id) => p.receiver.received.some((r) => r.id === `msg_${id}`)),
    )
  })

  it('many submissions for one domain run one at a time in acceptance order', async () => {
    const ids: string[] = []
    for (const keyTag of [2001, 2002, 2003]) {
      const answer = await p.submit('/domains/fifo.com/ds', post(ds(keyTag)))
      expect(answer.status).toBe(202)
      ids.push(answer.id)
    }
    await p.drainUntil(allFinal(ids), { timeoutMs: 15_000 })
    const tasks = await Promise.all(ids.map((id) => p.task(id)))
    expect(tasks.every((task) => task.status === 'succeeded')).toBe(true)
    const sent = upstreamFor('fifo.com')
    expect(sent.map((task) => task.taskNo)).toEqual(tasks.map((task) => task.upstream.taskNo))
    const taskMs = p.emulator.account.options.taskMs
    for (let i = 1; i < sent.length; i++) {
      expect(sent[i]!.createdAt - sent[i - 1]!.createdAt).toBeGreaterThanOrEqual(taskMs)
    }
  })

  it('a batch that overlaps a running task waits for it, then succeeds; its other domains are not blocked meanwhile by it', async () => {
    const running = await p.submit('/domains/overlap-b.com/ds/sync')
    expect(running.body.status).toBe('pending')
    const batch = await p.submit(
      '/dns-batch',
      post({ domains: ['overlap-a.com', 'overlap-b.com'], aliyunDns: true }),
    )
    expect(batch.body).toMatchObject({ status: 'queued', queue: { reason: 'target-busy' } })
    // The batch holds neither domain while it waits.
    const locks = createStores(loadSettings(p.env).store).targetLocks
    expect((await locks.read('overlap-a.com')).holder).toBeUndefined()
    await p.drainUntil(allFinal([running.id, batch.id]))
    expect((await p.task(batch.id)).status).toBe('succeeded')
    const [sync, change] = upstreamFor('overlap-b.com')
    expect(change!.createdAt - sync!.createdAt).toBeGreaterThanOrEqual(
      p.emulator.account.options.taskMs,
    )
  })

  it('a batch waiting for another domain does not idle this one: a DS change goes first, a name-server change does not, and once the batch waits only for what went first nothing more does', async () => {
    const locks = createStores(loadSettings(p.env).store).targetLocks
    // Console tasks hold each domain at the registry until the test ends them.
    const busyAtRegistry = (domain: string) => {
      const task = p.emulator.account.submit({ type: 'syncDs', domain }, '127.0.0.1', Date.now())
      Object.assign(task, { durationMs: 3_600_000 })
      return () => Object.assign(task, { durationMs: Date.now() - task.createdAt })
    }
    const batchOf = (domains: string[]) =>
      post({ domains, aliyunDns: false, nameServers: ['ns1.other-dns.net', 'ns2.other-dns.net'] })
    const [a, b] = ['idle-a.com', 'idle-b.com']
    const endB = busyAtRegistry(b)
    // H holds B (it met TaskIsBeingProcessed and keeps it), so the batch X waits for B — and is
    // the head of A's queue while A is free.
    const holderB = await p.submit(`/domains/${b}/ds/sync`)
    expect(holderB.body).toMatchObject({ status: 'queued', queue: { reason: 'upstream-busy' } })
    const batch = await p.submit('/dns-batch', batchOf([a, b]))
    expect(batch.body).toMatchObject({ status: 'queued', queue: { reason: 'target-busy' } })
    const endA = busyAtRegistry(a)
    const dsOnA = await p.submit(`/domains/${a}/ds`, post(ds(3001)))
    const nsOnA = await p.submit('/dns-batch', batchOf([a]))
    expect([dsOnA.body.status, nsOnA.body.status]).toEqual(['queued', 'queued'])
    // The DS change goes before the batch (and now holds A, busy at the registry); the
    // name-server change does not: its order against the batch decides A's name servers.
    await p.drainUntil(async () => (await locks.read(a)).holder === dsOnA.id)
    expect((await p.task(batch.id)).status).toBe('queued')
    expect((await p.task(nsOnA.id)).status).toBe('queued')
    // B's holder ends; the batch now waits only for the task that went before it on A, so a
    // task behind it on B (a DS change, which would commute) waits its turn.
    endB()
    await p.drainUntil(async () => (await p.task(holderB.id)).status === 'succeeded')
    const behindOnB = await p.submit(`/domains/${b}/ds/sync`)
    expect(behindOnB.body.status).toBe('queued')
    await p.drainUntil(async () => ((await p.task(behindOnB.id)).queue?.checks ?? 0) >= 3)
    expect((await p.task(behindOnB.id)).status).toBe('queued')
    expect((await locks.read(b)).holder).toBeUndefined()
    expect((await locks.read(a)).holder).toBe(dsOnA.id)
    endA()
    const ids = [holderB.id, batch.id, dsOnA.id, nsOnA.id, behindOnB.id]
    await p.drainUntil(allFinal(ids), { timeoutMs: 15_000 })
    const tasks = await Promise.all(ids.map((id) => p.task(id)))
    expect(tasks.map((task) => task.status)).toEqual(ids.map(() => 'succeeded'))
    const taskNo = (id: string) => tasks.find((task) => task.id === id)?.upstream?.taskNo
    const order = (domain: string) =>
      upstreamFor(domain)
        .map((task) => task.taskNo)
        .slice(1)
    expect(order(a)).toEqual([taskNo(dsOnA.id), taskNo(batch.id), taskNo(nsOnA.id)])
    expect(order(b)).toEqual([taskNo(holderB.id), taskNo(batch.id), taskNo(behindOnB.id)])
  })

  it('a task started outside the gateway: queued on TaskIsBeingProcessed, retried, then succeeds', async () => {
    // Busy for a while yet (however slow the store makes the gateway's own submission).
    p.emulator.account.submit(
      { type: 'syncDs', domain: 'console.com' },
      '127.0.0.1',
      Date.now() + 1_000,
    )
    const answer = await p.submit('/domains/console.com/ds/sync')
    expect(answer.status).toBe(202)
    expect(answer.body).toMatchObject({ status: 'queued', queue: { reason: 'upstream-busy' } })
    await p.drainUntil(allFinal([answer.id]))
    const task = await p.task(answer.id)
    expect(task.status).toBe('succeeded')
    expect(upstreamFor('console.com')).toHaveLength(2)
  })

  it('a full queue answers 429 with Retry-After and writes nothing', async () => {
    const holder = await p.submit('/domains/full.com/ds/sync')
    const queued = []
    for (let i = 0; i < 3; i++) queued.push(await p.submit('/domains/full.com/ds/sync'))
    expect(queued.map((answer) => answer.body.status)).toEqual(['queued', 'queued', 'queued'])
    const refused = await p.request('/domains/full.com/ds/sync', {
      method: 'POST',
      key: p.tenant.key,
      headers: { 'idempotency-key': 'full-1' },
    })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await refused.json()).toMatchObject({ type: '/docs#problem-queue-full' })
    const listed = await p.request('/tasks?domain=full.com&limit=100', { key: p.tenant.key })
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(4)
    await p.drainUntil(allFinal([holder.id, ...queued.map((answer) => answer.id)]), {
      timeoutMs: 15_000,
    })
    // The refused key was freed: the same request is accepted now.
    const retried = await p.request('/domains/full.com/ds/sync', {
      method: 'POST',
      key: p.tenant.key,
      headers: { 'idempotency-key': 'full-1' },
    })
    expect(retried.status).toBe(202)
  })

  it('a ticket whose task is still the intent being turned into queued is not dropped as dead', async () => {
    // A submission for a busy domain writes its intent, then its ticket, then turns `queued`:
    // a release in between must not take the ticket for a dead one.
    const locks = createStores(loadSettings(p.env).store).targetLocks
    const holder = await p.submit('/domains/turning.com/ds/sync')
    const now = Date.now()
    const command = { action: 'ds.sync', domain: 'turning.com' } as const
    const base = { tenant: 'pipeline', keyId: p.tenant.id, command, callbackUrl: undefined }
    // Its process is still within the production send window (the pipeline's is 1 s, which a
    // busy machine may spend before the drain below looks): until then the intent is not proven
    // unsent, and its ticket is not dead.
    const intent = {
      ...toIntent(p.deps, newTask(base, 'tsk_turning0000000000001', now), now),
      sendBy: now + 60_000,
    }
    expect(await p.deps.tasks.create(intent)).toBe(true)
    const ticket = ticketOf(now, 0, intent.id)
    await locks.enqueue('turning.com', ticket, 10)
    // Another submission queues behind it, and looks at the head of the queue when it can.
    const behind = await p.submit('/domains/turning.com/ds/sync')
    expect(behind.body.status).toBe('queued')
    await p.drainUntil(async () => {
      const next = await p.task(behind.id)
      return (await p.task(holder.id)).status === 'succeeded' && (next.queue?.checks ?? 0) >= 2
    })
    expect((await locks.read('turning.com')).waiters[0]).toBe(ticket)
    expect((await p.task(behind.id)).status).toBe('queued')
  })

  it('a dead ticket at the head (its task never written) is dropped, and the queue moves on', async () => {
    const locks = createStores(loadSettings(p.env).store).targetLocks
    const dead = ticketOf(Date.now() - 120_000, 0, 'tsk_neverwritten0000000000')
    await locks.enqueue('dead-ticket.com', dead, 10)
    const answer = await p.submit('/domains/dead-ticket.com/ds/sync')
    expect(answer.body.status).toBe('queued')
    await p.drainUntil(allFinal([answer.id]))
    expect((await p.task(answer.id)).status).toBe('succeeded')
    expect((await locks.read('dead-ticket.com')).waiters).toEqual([])
  })
})
