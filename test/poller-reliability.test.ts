import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadSettings } from '#shared/composition/settings.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { createStores } from '#shared/store/stores.ts'
import { newTask } from '#shared/tasks/task-states.ts'
import type { TaskStore } from '#shared/tasks/task-store.ts'
import { clientFor, upstreamTasksFor } from './helpers/emulator.ts'
import { moved, runBudget, TEST_DYNAMODB_ENGINE } from './helpers/gateway.ts'
import {
  type Pipeline,
  QUICK_ABSENCE,
  QUICK_DRAIN_MS,
  QUICK_EMULATOR,
  startPipeline,
} from './helpers/pipeline.ts'
import { expectEachStepOnce, passThrough, recordTransitions } from './helpers/task-store-wrapper.ts'

let p: Pipeline
beforeAll(async () => {
  p = await startPipeline({ emulatorTaskMs: 20, emulator: QUICK_EMULATOR })
})
afterAll(() => p.closeAll())
beforeEach(() => {
  p.receiver.reply = () => ({ status: 204 })
  p.emulator.faults.set([])
})

/** A poller whose due-index reads return only the given task. */
function seeingOnly(deps: PollerDeps, ...taskIds: string[]): PollerDeps {
  const real = deps.tasks
  const tasks: TaskStore = {
    ...passThrough(real),
    dueItems: async (...args) =>
      (await real.dueItems(...args)).filter((due) => taskIds.includes(due.id)),
  }
  return { ...deps, tasks }
}

async function submitMany(prefix: string, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < count; i++)
    ids.push((await p.submit(`/domains/${prefix}-${i}.com/ds/sync`)).id)
  return ids
}

const allDelivered = (ids: string[]) => async () =>
  (await Promise.all(ids.map((id) => p.task(id)))).every(
    (task) => task.callback.state === 'delivered',
  )

describe('run budget', () => {
  it('an idle run stops at once instead of spending its budget', async () => {
    await p.drainUntil(async () => true)
    const empty = await startPipeline()
    try {
      // Nothing is due now or within the budget: one round, and no wait for work (the run's only
      // way to spend its budget), however slow the machine is.
      const waits: number[] = []
      const deps = empty.pollerDeps()
      const stats = await runPoller(
        {
          ...deps,
          sleep: (ms) => {
            waits.push(ms)
            return deps.sleep(ms)
          },
        },
        Date.now() + 30_000,
      )
      expect(stats.rounds).toBe(1)
      expect(waits).toEqual([])
    } finally {
      await empty.closeAll()
    }
  })

  it('a run with work due later in its budget waits for it instead of stopping', async () => {
    const later = await startPipeline({ emulatorTaskMs: 300 })
    try {
      const submitted = await later.submit('/domains/later.com/ds/sync')
      const deps = later.pollerDeps({}, { pollDelaysMs: [200] })
      // A budget no machine's slowness can spend: the run ends once nothing falls due in it.
      await runPoller(deps, Date.now() + 60_000)
      expect((await later.task(submitted.id)).callback.state).toBe('delivered')
    } finally {
      await later.closeAll()
    }
  })

  it("a shard whose items fall due again and again does not starve another shard's", async () => {
    // Shard 0 lists a hundred items (queued tasks looking for their turn, say), shard 7 one; the
    // run's budget is spent long before a hundred are worked on, one at a time.
    const busy = Array.from({ length: 100 }, (_, i) => `tsk_busy${String(i).padStart(8, '0')}`)
    const lonely = 'tsk_lonely00000001'
    const deps = p.pollerDeps({}, { concurrency: 1, idleWaitMs: 5 })
    const claimed: string[] = []
    const tasks: TaskStore = {
      ...passThrough(deps.tasks),
      shardCount: 8,
      dueItems: async (shard) =>
        (shard === 0 ? busy : shard === 7 ? [lonely] : []).map((id) => ({ kind: 'task', id })),
      claim: async (id) => {
        claimed.push(id)
        await new Promise((resolve) => setTimeout(resolve, 5))
        return undefined
      },
    }
    await runPoller({ ...deps, tasks, sweepDueIndex: undefined }, Date.now() + 150)
    expect(claimed.length).toBeLessThan(busy.length)
    expect(claimed).toContain(lonely)
  })
})

describe('concurrent and interrupted pollers', () => {
  it('two pollers racing over the same due tasks: each transition and each callback exactly once', async () => {
    const ids = await submitMany('race', 20)
    const transitions = new Map<string, string[]>()
    const a = p.pollerDeps({}, { concurrency: 8 })
    const b = p.pollerDeps({}, { concurrency: 8 })
    const wrappedA = { ...a, tasks: recordTransitions(a.tasks, transitions) }
    const wrappedB = { ...b, tasks: recordTransitions(b.tasks, transitions) }
    // moto answers each due-index query far more slowly: its runs get a longer budget. A busy
    // machine moves the race slowly, not never: it ends when all is delivered, or fails after a
    // stretch in which neither poller moved anything.
    const moto = TEST_DYNAMODB_ENGINE === 'moto'
    const stillMs = moto ? 30_000 : 10_000
    const budget = runBudget(moto ? 400 : 100)
    let stillSince = Date.now()
    while (!(await allDelivered(ids)()) && Date.now() - stillSince < stillMs) {
      const runs = await Promise.all([
        runPoller(wrappedA, Date.now() + budget.next()),
        runPoller(wrappedB, Date.now() + budget.next()),
      ])
      budget.after({ ...runs[0].outcomes, ...runs[1].outcomes })
      if (runs.some((run) => moved(run.outcomes))) stillSince = Date.now()
    }
    expect(await allDelivered(ids)()).toBe(true)
    expectEachStepOnce(ids, transitions, p.receiver.countsById())
  })

  it('a poller killed mid-poll: its lease expires and the next run finishes the work', async () => {
    const ids = await submitMany('killed-poll', 5)
    // The first poller claims tasks and then hangs forever in its upstream call, as if killed.
    const hung = p.pollerDeps(
      {
        upstream: {
          ...p.pollerDeps().upstream,
          queryAllTaskDetails: () => new Promise(() => {}),
        } as PollerDeps['upstream'],
      },
      { leaseMs: 300 },
    )
    await new Promise((resolve) => setTimeout(resolve, 30))
    // It sees only these tasks, so its run may be long: how soon it claims depends on the
    // store (slow on moto under load), not on a short deadline it might miss. It claims, then hangs.
    void runPoller(seeingOnly(hung, ...ids), Date.now() + 5_000)
    const claimedBy = async () =>
      (await Promise.all(ids.map((id) => p.task(id)))).some(
        (task) => task.lease?.owner === hung.settings.owner,
      )
    const until = Date.now() + 4_000
    while (!(await claimedBy()) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(await claimedBy()).toBe(true)
    await p.drainUntil(allDelivered(ids))
    for (const id of ids) expect((await p.task(id)).status).toBe('succeeded')
  })

  it('a poller killed while sending: the attempt is counted as interrupted and sent again once', async () => {
    const [id] = await submitMany('killed-send', 1)
    const base = p.pollerDeps(
      { sendWebhook: () => new Promise(() => {}) },
      { leaseMs: 100, callbackTimeoutMs: 100 },
    )
    // This poller only ever sees the one task, so its hung send cannot hold up other tests.
    const hung = seeingOnly(base, id as string)
    void runPoller(hung, Date.now() + 1_000)
    const deadline = Date.now() + 5_000
    while ((await p.task(id!)).callback.state !== 'sending' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect((await p.task(id!)).callback.state).toBe('sending')
    await p.drainUntil(delivered(id!))
    const log = await p.deps.deliveries.list(id!)
    expect(log.map((attempt) => attempt.outcome)).toEqual(['interrupted', 'delivered'])
    expect(p.receiver.countsById().get(`msg_${id}`)).toBe(1)
  })

  it('upstream throttling pauses the run and keeps the tasks due', async () => {
    const ids = await submitMany('throttled', 3)
    p.emulator.faults.set([{ kind: 'throttle', actions: ['QueryTaskDetailList'] }])
    const deps = p.pollerDeps()
    await new Promise((resolve) => setTimeout(resolve, 30))
    // A run long enough to reach upstream however slow the store is under load; its pauses are
    // kept short so the test does not wait out the real back-off.
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 25)))
    const stats = await runPoller({ ...deps, sleep }, Date.now() + 1_500)
    expect(stats.throttledPauses).toBeGreaterThan(0)
    for (const id of ids) {
      const task = await p.task(id)
      expect(task.status).toBe('pending')
      expect(task.dueAt).toBeLessThanOrEqual(Date.now())
      expect(task.lease).toBeUndefined()
    }
    p.emulator.faults.set([])
    await p.drainUntil(allDelivered(ids))
  })
})

const delivered = (id: string) => async () => (await p.task(id)).callback.state === 'delivered'

/** The next DS sync submission is cut off before the emulator sees it: it never arrives. */
const loseNextSyncSubmission = () =>
  p.emulator.faults.set([
    {
      kind: 'reset',
      phase: 'before',
      count: 1,
      actions: ['SaveSingleTaskForSynchronizingDSRecord'],
    },
  ])

describe('reconciler', () => {
  it('resolves an ambiguous submission by looking it up, without a second upstream task', async () => {
    p.emulator.faults.set([
      { kind: 'error5xx', count: 1, actions: ['SaveSingleTaskForSynchronizingDSRecord'] },
    ])
    const submitted = await p.submit('/domains/reconcile-me.com/ds/sync')
    expect(submitted.body.status).toBe('submitting')
    await p.drainUntil(delivered(submitted.id))
    const task = await p.task(submitted.id)
    expect(task.status).toBe('succeeded')
    const upstream = [...p.emulator.account.tasks.values()].filter(
      (candidate) => 'domain' in candidate.kind && candidate.kind.domain === 'reconcile-me.com',
    )
    expect(upstream).toHaveLength(1)
    expect(task.upstream.taskNo).toBe(upstream[0]?.taskNo)
  })

  it('leaves an upstream task alone until it is old enough that no live submission can claim it', async () => {
    p.emulator.faults.set([
      { kind: 'error5xx', count: 1, actions: ['SaveSingleTaskForSynchronizingDSRecord'] },
    ])
    const submitted = await p.submit('/domains/settle.com/ds/sync')
    const patient = p.pollerDeps({}, { candidateSettleMs: 60_000 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    await runPoller(patient, Date.now() + 200)
    expect((await p.task(submitted.id)).status).toBe('submitting')
    await p.drainUntil(async () => (await p.task(submitted.id)).status === 'succeeded')
  })

  it('never adopts an upstream task that already belongs to another gateway task', async () => {
    const first = await p.submit('/domains/adopted.com/ds/sync')
    await p.drainUntil(delivered(first.id))
    loseNextSyncSubmission()
    const second = await p.submit('/domains/adopted.com/ds/sync')
    expect(second.body.status).toBe('submitting')
    const deps = p.pollerDeps({}, QUICK_ABSENCE)
    await p.drainUntil(delivered(second.id), { deps, timeoutMs: QUICK_DRAIN_MS })
    // Proven absent without taking the first's task; accepted, so sent again as its own.
    const task = await p.task(second.id)
    const firstTaskNo = (await p.task(first.id)).upstream.taskNo
    expect(task).toMatchObject({ status: 'succeeded', resends: 1 })
    expect(firstTaskNo).toBeDefined()
    expect(task.upstream.taskNo).toBeDefined()
    expect(task.upstream.taskNo).not.toBe(firstTaskNo)
    expect(upstreamTasksFor(p.emulator, 'adopted.com')).toHaveLength(2)
  })

  it('adopts a batch only if the upstream batch names exactly its domains', async () => {
    // A batch started outside the gateway (e.g. in the console) that shares the first domain…
    const outside = await clientFor(p.emulator).modifyDomainDnsBatch({
      domainNames: ['shared-first.com', 'only-a.com'],
      aliyunDns: true,
    })
    await new Promise((resolve) => setTimeout(resolve, 60))
    // …then the gateway's own batch, whose answer is lost.
    p.emulator.faults.set([
      { kind: 'error5xx', count: 1, actions: ['SaveBatchTaskForModifyingDomainDns'] },
    ])
    const ours = await p.submit('/dns-batch', {
      method: 'POST',
      body: JSON.stringify({ domains: ['shared-first.com', 'only-b.com'], aliyunDns: true }),
    })
    expect(ours.body.status).toBe('submitting')
    const base = p.pollerDeps({}, { batchSize: 10_000 })
    await p.drainUntil(async () => (await p.task(ours.id)).status === 'succeeded', {
      deps: seeingOnly(base, ours.id),
    })
    const task = await p.task(ours.id)
    expect(task.upstream.taskNo).not.toBe(outside.taskNo)
    expect(p.emulator.account.tasks.get(task.upstream.taskNo as string)?.kind).toMatchObject({
      domains: ['shared-first.com', 'only-b.com'],
    })
  })

  it('one open task per domain: another is queued (202), sent once the first is final, never 409', async () => {
    p.emulator.faults.set([
      { kind: 'error5xx', count: 1, actions: ['SaveSingleTaskForSynchronizingDSRecord'] },
    ])
    const first = await p.submit('/domains/one-open.com/ds/sync')
    expect(first.body.status).toBe('submitting')
    // The first's outcome is unknown: a second submission for the domain waits, sending nothing.
    const second = await p.submit('/domains/one-open.com/ds/sync')
    expect(second.status).toBe(202)
    expect(second.body).toMatchObject({ status: 'queued', queue: { reason: 'target-busy' } })
    const batch = await p.submit('/dns-batch', {
      method: 'POST',
      body: JSON.stringify({ domains: ['other.com', 'one-open.com'], aliyunDns: true }),
    })
    expect(batch.status).toBe(202)
    expect(batch.body.status).toBe('queued')
    // The waiting batch holds nothing: a submission for other.com alone must still wait behind
    // it (FIFO), and is shown where it stands.
    const other = await p.submit('/domains/other.com/ds/sync')
    expect(other.body.status).toBe('queued')
    const shown = await p.request(`/tasks/${other.id}`, { key: p.tenant.key })
    expect(((await shown.json()) as { queue: { ahead: number } }).queue.ahead).toBe(1)
    const upstream = (domain: string) =>
      [...p.emulator.account.tasks.values()].filter(
        (task) =>
          ('domain' in task.kind && task.kind.domain === domain) ||
          ('domains' in task.kind && task.kind.domains.includes(domain)),
      )
    expect(upstream('one-open.com')).toHaveLength(1)
    await p.drainUntil(async () =>
      (await Promise.all([first, second, batch, other].map((t) => p.task(t.id)))).every(
        (task) => task.status === 'succeeded',
      ),
    )
    // Each was sent once, in acceptance order, never two at once on one domain.
    const sent = upstream('one-open.com').sort((a, b) => a.createdAt - b.createdAt)
    expect(sent).toHaveLength(3)
    const tasks = await Promise.all([first, second, batch].map((t) => p.task(t.id)))
    expect(sent.map((task) => task.taskNo)).toEqual(tasks.map((task) => task.upstream.taskNo))
    // The registry settles a task taskMs after creating it; the next came only after that.
    const taskMs = p.emulator.account.options.taskMs
    for (let i = 1; i < sent.length; i++) {
      expect(sent[i]!.createdAt - sent[i - 1]!.createdAt).toBeGreaterThanOrEqual(taskMs)
    }
    expect(upstream('other.com')).toHaveLength(2)
  })

  it('a holder that is gone or final gives its target up at once, whatever its until; a live one keeps it', async () => {
    const stores = createStores(loadSettings(p.env).store)
    const locks = stores.targetLocks
    const now = Date.now()
    // A holder whose task is gone (an intent taken back after a failure to take its targets).
    await locks.acquire('dead-holder.com', 'tsk_deadholder000000000000', now + 600_000)
    const afterDead = await p.submit('/domains/dead-holder.com/ds/sync')
    expect(afterDead.body.status).toBe('queued')
    // A holder stored with a status no poller moves (no due time) that holds its domain.
    const holder = async (
      domain: string,
      id: string,
      status: 'succeeded' | 'pending',
      until: number,
    ) => {
      const task = {
        ...newTask(
          {
            tenant: 'alpha',
            keyId: 'key_x',
            command: { action: 'ds.sync', domain },
            callbackUrl: undefined,
          },
          id,
          now,
        ),
        status,
        dueAt: undefined,
      }
      await stores.tasks.create(task)
      await locks.acquire(domain, id, until)
      return task
    }
    // A holder that is final, whose release was lost.
    await holder('final-holder.com', 'tsk_finalholder00000000000', 'succeeded', now + 600_000)
    const afterFinal = await p.submit('/domains/final-holder.com/ds/sync')
    expect(afterFinal.body.status).toBe('queued')
    // A live holder (a task still open that no poller is moving): its target stays held.
    const live = await holder('live-holder.com', 'tsk_liveholder000000000000', 'pending', now - 1)
    const blocked = await p.submit('/domains/live-holder.com/ds/sync')
    expect(blocked.body.status).toBe('queued')
    await p.drainUntil(async () =>
      (await Promise.all([p.task(afterDead.id), p.task(afterFinal.id)])).every(
        (task) => task.status === 'succeeded',
      ),
    )
    expect((await p.task(blocked.id)).status).toBe('queued')
    expect((await locks.read('live-holder.com')).holder).toBe(live.id)
  })

  it('an accepted submission proven absent upstream is sent again, carried out once, and reported once', async () => {
    loseNextSyncSubmission()
    const submitted = await p.submit('/domains/never-arrived.com/ds/sync')
    expect(submitted.body.status).toBe('submitting')
    const deps = p.pollerDeps({}, QUICK_ABSENCE)
    await p.drainUntil(delivered(submitted.id), { deps, timeoutMs: QUICK_DRAIN_MS })
    const callbacks = p.receiver.received.filter((request) => request.id === `msg_${submitted.id}`)
    expect(callbacks).toHaveLength(1)
    const event = p.receiver.verify(callbacks[0]!, p.tenant.webhookSecret)
    expect(event.type).toBe('task.succeeded')
    expect(await p.task(submitted.id)).toMatchObject({ status: 'succeeded', resends: 1 })
    expect(upstreamTasksFor(p.emulator, 'never-arrived.com')).toHaveLength(1)
  })
})
