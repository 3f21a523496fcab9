import { afterEach, describe, expect, it } from 'vitest'
import { behaviourFor, type ServiceBehaviour } from '#infra/emulator/behaviour.ts'
import { ClockSkewTracker } from '#shared/aliyun/clock-skew.ts'
import { UpstreamError } from '#shared/aliyun/upstream-error.ts'
import { keyedTaskId } from '#shared/ids.ts'
import { silentLogger } from '#shared/logger.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import type { SubmitDeps } from '#shared/tasks/submit-deps.ts'
import { submitTask } from '#shared/tasks/submit-task.ts'
import type { TargetLockStore } from '#shared/tasks/target-locks.ts'
import type { TaskStore } from '#shared/tasks/task-store.ts'
import { absenceProvableAfter, unheldNeverSentAfter } from '#shared/tasks/upstream-search.ts'
import { crashingUpstream } from './helpers/crash-points.ts'
import {
  clientFor,
  SHA256_DIGEST,
  startTestEmulator,
  TEST_EMULATOR_PROFILE,
} from './helpers/emulator.ts'
import { postJson, startHarness } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { passThrough } from './helpers/task-store-wrapper.ts'

/**
 * The exactly-once argument, pinned: no `Save*` attempt is signed or put on the wire after the
 * intent's `sendBy`; the service refuses a request signed more than its window before it arrives;
 * so once `sendBy` + window (+ skew, + margin) has passed, a scan that finds nothing proves absence.
 */

const SYNC = 'SaveSingleTaskForSynchronizingDSRecord'
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!(error instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${error}`)
  return error
}

describe('the client never signs or sends a write after sendBy', () => {
  it('refuses to sign once sendBy has passed: proven unsent, nothing reaches the service', async () => {
    const emulator = await startTestEmulator()
    closers.push(emulator.close)
    const client = clientFor(emulator)
    const error = await failure(
      client.syncDsRecord({ domainName: 'late.com', sendBy: Date.now() - 1 }),
    )
    expect(error).toMatchObject({ code: 'SendWindowClosed', notSent: true })
    expect(emulator.nonces.size).toBe(0)
    expect(emulator.account.tasks.size).toBe(0)
  })

  it('checks again at the last moment: a write queued behind a busy connection past sendBy is never written', async () => {
    const emulator = await startTestEmulator()
    closers.push(emulator.close)
    emulator.faults.set([{ kind: 'latency', ms: 600, actions: ['QueryTaskList'] }])
    // One connection: the write waits in undici's queue while the slow read holds it.
    const client = clientFor(emulator, { ALIYUN_MAX_CONNECTIONS: '1', ALIYUN_TIMEOUT_MS: '5000' })
    const slowRead = client.queryTaskList({})
    const signedInTime = Date.now()
    const queued = failure(
      client.syncDsRecord({ domainName: 'queued.com', sendBy: Date.now() + 150 }),
    )
    const error = await queued
    await slowRead
    expect(error).toMatchObject({ code: 'SendWindowClosed', notSent: true })
    expect(Date.now() - signedInTime).toBeGreaterThanOrEqual(500)
    // Only the read reached the emulator: the write was signed in time but never put on the wire.
    expect(emulator.nonces.size).toBe(1)
    expect(emulator.account.tasks.size).toBe(0)

    // The same wait with a window that is still open when the connection frees up: sent.
    const secondRead = client.queryTaskList({})
    const sent = await client.syncDsRecord({ domainName: 'queued.com', sendBy: Date.now() + 5_000 })
    await secondRead
    expect(emulator.account.tasks.get(sent.taskNo)).toBeDefined()
  })

  it("refuses to send while the service's clock is proven too far from ours", async () => {
    const emulator = await startTestEmulator({ now: () => Date.now() + 120_000 })
    closers.push(emulator.close)
    const client = clientFor(emulator, { ALIYUN_MAX_CLOCK_SKEW_SECONDS: '30' })
    await client.queryTaskList({})
    expect(client.clockSkew.provenSkewMs()).toBeGreaterThan(100_000)
    const error = await failure(
      client.syncDsRecord({ domainName: 'skewed.com', sendBy: Date.now() + 60_000 }),
    )
    expect(error).toMatchObject({ code: 'ClockSkewTooLarge', notSent: true })
    expect(error.message).toMatch(/ahead of ours/)
    expect(emulator.account.tasks.size).toBe(0)
  })
})

describe('clock-skew bounds from Date headers', () => {
  const date = (ms: number) => new Date(ms).toUTCString()
  const t0 = Date.UTC(2026, 10, 23, 12, 0, 0)

  it('a prompt answer bounds the offset to about a second', () => {
    const tracker = new ClockSkewTracker()
    tracker.observe(date(t0 + 45_000), t0, t0 + 20)
    expect(tracker.provenSkewMs()).toBe(45_000 - 20)
  })

  it('an answer read late (a busy event loop) widens the bounds and proves no skew', () => {
    const tracker = new ClockSkewTracker()
    // Sent at t0, read 60 s later: the service's clock reads t0, so it may be anywhere from 60 s
    // behind to 1 s ahead — no proof of anything.
    tracker.observe(date(t0), t0, t0 + 60_000)
    expect(tracker.provenSkewMs()).toBe(0)
  })

  it('keeps the narrowest recent sample, not the latest', () => {
    const tracker = new ClockSkewTracker()
    tracker.observe(date(t0), t0, t0 + 10)
    tracker.observe(date(t0 + 1_000), t0 + 1_000, t0 + 50_000)
    expect(tracker.sample).toMatchObject({ low: -10, high: 1_000 })
  })
})

describe('the emulator judges a request by its arrival', () => {
  it('a request held on the wire past the window is refused and creates nothing', async () => {
    const emulator = await startTestEmulator({ timestampWindowMs: 1_000 })
    closers.push(emulator.close)
    emulator.faults.set([{ kind: 'latency', ms: 2_200, actions: [SYNC] }])
    const client = clientFor(emulator, { ALIYUN_TIMEOUT_MS: '5000' })
    const error = await failure(client.syncDsRecord({ domainName: 'wire.com' }))
    expect(error.code).toBe('InvalidTimeStamp.Expired')
    expect(emulator.account.tasks.size).toBe(0)
  })

  it('shows each upstream task with the Timestamp it was signed with and its arrival time', async () => {
    const emulator = await startTestEmulator()
    closers.push(emulator.close)
    const client = clientFor(emulator)
    const before = Date.now()
    const { taskNo } = await client.addDsRecord({
      domainName: 'state.com',
      keyTag: 1,
      algorithm: 13,
      digestType: 2,
      digest: SHA256_DIGEST,
    })
    const state = (await (await fetch(`${emulator.url}/__emulator/state`)).json()) as {
      tasks: { taskNo: string; request: { timestamp: string; arrivedAt: string } }[]
    }
    const task = state.tasks.find((candidate) => candidate.taskNo === taskNo)
    expect(task?.request.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    expect(Date.parse(task?.request.arrivedAt ?? '')).toBeGreaterThanOrEqual(before)
    expect(Date.parse(task?.request.timestamp ?? '')).toBeLessThanOrEqual(
      Date.parse(task?.request.arrivedAt ?? ''),
    )
  })
})

/** A pipeline whose emulator refuses a request signed more than `windowMs` before it arrives. */
async function pipelineWithWindow(
  windowMs: number,
  behaviour: Partial<ServiceBehaviour> = {},
): Promise<Pipeline> {
  const p = await startPipeline({
    emulator: {
      timestampWindowMs: windowMs,
      account: { behaviour: behaviourFor(TEST_EMULATOR_PROFILE, Math.random, behaviour) },
    },
  })
  closers.push(p.closeAll)
  return p
}

/** Every method of a target-lock store, calling the real one (to override one of them). */
function lockPassThrough(real: TargetLockStore): TargetLockStore {
  return {
    acquire: (...args) => real.acquire(...args),
    acquireAsHead: (...args) => real.acquireAsHead(...args),
    enqueue: (...args) => real.enqueue(...args),
    dequeue: (...args) => real.dequeue(...args),
    read: (target) => real.read(target),
    release: (...args) => real.release(...args),
  }
}

/** Due-index reads that return only the given task. */
const seeing =
  (real: TaskStore, id: string): TaskStore['dueItems'] =>
  async (...args) =>
    (await real.dueItems(...args)).filter((due) => due.id === id)

async function until(done: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Runs pollers until `done`, recording every status the task was seen in. */
async function watch(p: Pipeline, deps: PollerDeps, id: string, timeoutMs: number) {
  const seen: string[] = []
  await p.drainUntil(
    async () => {
      const task = await p.task(id)
      if (seen.at(-1) !== task.status) seen.push(task.status)
      return task.status !== 'submitting'
    },
    { deps, timeoutMs },
  )
  return seen
}

describe('the reconciler and the window', () => {
  it('calls a submission absent only after the window, and the verdict is true: the late request is refused, and the accepted task is sent again', async () => {
    const p = await pipelineWithWindow(1_000)
    // Held on the wire for 3.5 s: the gateway times out at 2 s, not knowing whether it arrived
    // (1.5 s apart, so a busy machine's late timers cannot let the answer win).
    p.emulator.faults.set([{ kind: 'latency', ms: 3_500, actions: [SYNC], count: 1 }])
    const submitted = await p.submit('/domains/on-the-wire.com/ds/sync')
    expect(submitted.body.status).toBe('submitting')
    const first = await p.task(submitted.id)
    expect(first.accepted).toBe(true)
    const deps = p.pollerDeps({}, { timestampWindowMs: 1_000 })
    await watch(p, deps, submitted.id, 5_000)
    // Proven absent after the window: the request was answered 202, so it is sent again.
    const task = await p.task(submitted.id)
    expect(task).toMatchObject({ resends: 1 })
    expect(Date.parse(task.updatedAt)).toBeGreaterThanOrEqual(
      absenceProvableAfter(deps.settings, first),
    )
    // The first request is still travelling when the verdict is given; when it lands it is
    // refused, and the domain is changed once, by the second.
    await new Promise((resolve) =>
      setTimeout(resolve, 3_700 - (Date.now() - Date.parse(task.createdAt))),
    )
    await p.drainUntil(async () => (await p.task(submitted.id)).status === 'succeeded', {
      deps,
      timeoutMs: 8_000,
    })
    const done = await p.task(submitted.id)
    expect([...p.emulator.account.tasks.keys()]).toEqual([done.upstream.taskNo])
  })

  it('never declares absence while the window is open, and adopts a task that appears inside it', async () => {
    // Arrives after the gateway's 2-s timeout and well inside the 8-s window, with seconds of
    // slack on both sides, so a busy machine's late timers change neither.
    const p = await pipelineWithWindow(8_000)
    p.emulator.faults.set([{ kind: 'latency', ms: 4_500, actions: [SYNC], count: 1 }])
    const submitted = await p.submit('/domains/arrives-late.com/ds/sync')
    expect(submitted.body.status).toBe('submitting')
    const seen = await watch(
      p,
      p.pollerDeps({}, { timestampWindowMs: 8_000 }),
      submitted.id,
      12_000,
    )
    expect(seen).not.toContain('rejected')
    const task = await p.task(submitted.id)
    expect(task.upstream.taskNo).toBeDefined()
    expect([...p.emulator.account.tasks.keys()]).toEqual([task.upstream.taskNo])
  })

  it("a process that stopped between its intent and taking the domain: no upstream search, a neighbour's lost task not adopted, NotSubmitted once its send window and the clocks' skew have passed", async () => {
    const p = await pipelineWithWindow(60_000)
    const stopped = () => new Promise<never>(() => undefined)
    const domain = 'stopped-before-lock.com'
    const submitAs = (key: string, deps: Partial<SubmitDeps>) => {
      void submitTask(
        { ...p.deps, logger: silentLogger, ...deps },
        {
          tenant: 'pipeline',
          keyId: p.tenant.id,
          command: { action: 'ds.sync', domain },
          callbackUrl: undefined,
          idempotency: { key, requestHash: key },
        },
        (outcome) => ({ status: 202, headers: {}, body: { id: outcome.task.id } }),
      )
      return keyedTaskId('pipeline', key)
    }
    // A: its intent is written, then its process stops before the domain is taken.
    const a = submitAs('a', {
      targetLocks: { ...lockPassThrough(p.deps.targetLocks), acquire: stopped },
    })
    await until(async () => (await p.deps.tasks.get(a, Date.now()))?.status === 'submitting')
    // B, the same domain: taken, sent, and its process stops before recording the TaskNo.
    const b = submitAs('b', { upstream: crashingUpstream(p.deps.upstream, { after: stopped }) })
    await until(() => p.emulator.account.tasks.size === 1)
    // A's reconciler runs first, alone, while B's upstream task is unowned and in A's window.
    const settings = { timestampWindowMs: 100 }
    const deps = p.pollerDeps({}, settings)
    await p.drainUntil(async () => (await p.task(a)).status !== 'submitting', {
      deps: { ...deps, tasks: { ...passThrough(deps.tasks), dueItems: seeing(deps.tasks, a) } },
    })
    const first = await p.task(a)
    expect(first).toMatchObject({ status: 'rejected', error: { code: 'NotSubmitted' } })
    expect(first.upstream.taskNo).toBeUndefined()
    // Never answered 202: the key is free for the same request, and no answer replays.
    expect(first.accepted).toBeUndefined()
    expect(first.idempotency).toMatchObject({ freed: true })
    expect(first.answer).toBeUndefined()
    expect(Date.parse(first.completedAt as string)).toBeGreaterThan(
      unheldNeverSentAfter(deps.settings, first),
    )
    // B's own reconciler finds B's task.
    await p.drainUntil(async () => (await p.task(b)).status !== 'submitting', { deps })
    expect((await p.task(b)).upstream.taskNo).toBe([...p.emulator.account.tasks.keys()][0])
  })

  it('a scan that started before the window closed gives no verdict, however long it takes', async () => {
    // The gateway's clock is moved on below while the service's is not, so the service must list a
    // task at once here (the margin that covers a listing delay is counted on the gateway's clock).
    const p = await pipelineWithWindow(60_000, { listingDelayMs: 0 })
    // The Save* ran, its answer was lost: an upstream task exists that the gateway must find.
    p.emulator.faults.set([{ kind: 'error5xx', count: 1, actions: [SYNC] }])
    const submitted = await p.submit('/domains/slow-scan.com/ds/sync')
    expect(submitted.body.status).toBe('submitting')
    let skipMs = 0
    const patient = (extra: Partial<PollerDeps['settings']>) => {
      // A lease long enough that the slow scan stays within its time budget (half a lease).
      const base = p.pollerDeps(
        {},
        { timestampWindowMs: 100, candidateSettleMs: 60_000, leaseMs: 3_600_000, ...extra },
      )
      return {
        ...base,
        now: () => Date.now() + skipMs,
        upstream: {
          ...base.upstream,
          queryAllTaskDetails: base.upstream.queryAllTaskDetails.bind(base.upstream),
          queryTaskDetailList: base.upstream.queryTaskDetailList.bind(base.upstream),
          // The scan is slow: by the time its listing answers, the window has long closed.
          queryTaskList: async (input: Parameters<PollerDeps['upstream']['queryTaskList']>[0]) => {
            const page = await base.upstream.queryTaskList(input)
            // Once per scan, however many pages the account's listing has.
            if ((input.pageNum ?? 1) === 1) skipMs += 10_000
            return page
          },
        },
      } satisfies PollerDeps
    }
    const run = (deps: PollerDeps) => runPoller(deps, deps.now() + 300)
    await new Promise((resolve) => setTimeout(resolve, 60))
    // Runs until the first scan has happened (a busy machine may take more than one short run
    // to reach it); each scan moves the gateway's clock on by 10 s, so stop at the first.
    for (let attempt = 0; attempt < 50 && skipMs === 0; attempt++) await run(patient({}))
    // The candidate was too young to adopt and the scan began inside the window: no verdict.
    expect(skipMs).toBeGreaterThan(0)
    expect((await p.task(submitted.id)).status).toBe('submitting')
    // Scans that start after the window still see a too-young candidate: still no verdict.
    await run(patient({}))
    expect((await p.task(submitted.id)).status).toBe('submitting')
    // Once the candidate is old enough, it is adopted.
    for (
      let round = 0;
      round < 50 && (await p.task(submitted.id)).status !== 'succeeded';
      round++
    ) {
      await run(patient({ candidateSettleMs: 0 }))
    }
    expect((await p.task(submitted.id)).status).toBe('succeeded')
    expect(p.emulator.account.tasks.size).toBe(1)
  })

  it('a 503 after the Save* ran: never sent again, the key kept, the one upstream task adopted', async () => {
    const p = await pipelineWithWindow(60_000)
    p.emulator.faults.set([
      { kind: 'error5xx', status: 503, count: 1, actions: ['SaveSingleTaskForAddingDSRecord'] },
    ])
    const add = () =>
      p.request('/domains/dupadd.com/ds', {
        ...postJson(
          { keyTag: 2371, algorithm: 13, digestType: 2, digest: SHA256_DIGEST },
          { 'idempotency-key': 'add-once' },
        ),
        // The pipeline's tenant: its callbacks go to the test receiver.
        key: p.tenant.key,
      })
    const first = await add()
    expect(first.status).toBe(202)
    const body = (await first.json()) as { id: string; status: string }
    expect(body.status).toBe('submitting')
    expect(p.emulator.account.tasks.size).toBe(1)
    const retried = await add()
    expect(retried.status).toBe(202)
    expect(retried.headers.get('idempotent-replayed')).toBe('true')
    await p.drainUntil(async () => (await p.task(body.id)).callback.state === 'delivered')
    expect((await p.task(body.id)).status).toBe('succeeded')
    expect(p.emulator.account.tasks.size).toBe(1)
    const [callback] = p.receiver.received.filter((request) => request.id === `msg_${body.id}`)
    expect(p.receiver.verify(callback!, p.tenant.webhookSecret).type).toBe('task.succeeded')
  })
})

describe('one consistent outcome', () => {
  it('the answer is written with the outcome: no separate write to lose, and a replay names the TaskNo the task holds', async () => {
    // A keyed submission writes its task twice: the key's claim with the intent, then the outcome
    // with the answer. There is no third write (an idempotency record to complete) to fail.
    const h = await startHarness({ overrides: { logger: silentLogger } })
    closers.push(h.close)
    const writes: string[] = []
    const keyed = await startHarness({
      overrides: { logger: silentLogger },
      env: { TABLE_NAME: h.env.TABLE_NAME as string, ALIYUN_ENDPOINT: h.emulator.url },
      wrapTasks: (real): TaskStore => ({
        ...passThrough(real),
        createOrGet: (task, now) => {
          writes.push(`claim ${task.status}`)
          return real.createOrGet(task, now)
        },
        replace: (next, version) => {
          writes.push(`write ${next.status}${next.answer ? ' + answer' : ''}`)
          return real.replace(next, version)
        },
      }),
    })
    closers.push(keyed.close)
    const sync = (harness: typeof h) =>
      harness.request('/domains/consistent.com/ds/sync', postJson({}, { 'idempotency-key': 'one' }))
    const first = await sync(keyed)
    expect(first.status).toBe(202)
    const firstBody = (await first.json()) as { id: string; upstream: { taskNo?: string } }
    expect(writes).toEqual(['claim submitting', 'write pending + answer'])
    // Another instance answers the retry from the task: the same answer, the TaskNo it holds.
    const replay = await sync(h)
    expect(replay.status).toBe(202)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    const answer = (await replay.json()) as { id: string; upstream: { taskNo?: string } }
    expect(answer).toEqual(firstBody)
    const task = await h.deps.tasks.get(answer.id, Date.now())
    expect(task?.upstream.taskNo).toBeDefined()
    expect(answer.upstream.taskNo).toBe(task?.upstream.taskNo)
    expect(h.emulator.account.tasks.size).toBe(1)
  })
})
