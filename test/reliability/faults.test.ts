import { afterAll, beforeAll, expect, it } from 'vitest'
import { FAULT_KINDS, type FaultKind } from '#infra/emulator/faults.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { isTerminal, type Task } from '#shared/tasks/task.ts'
import type { TaskStore } from '#shared/tasks/task-store.ts'
import { SHA256_DIGEST } from '../helpers/emulator.ts'
import { passThrough } from '../helpers/task-store-wrapper.ts'
import { call, ReliabilityStack, RUN_SECONDS } from './stack.ts'

/**
 * Faults everywhere at once, then recovery: the emulator's fault modes at rates rising from 1 %
 * to 50 %, the embedded DynamoDB stopped and started mid-run, the API dying before taking the
 * domain and before and after its upstream call, pollers dying at every step of polling and
 * delivering, a flaky receiver. After the faults stop, every accepted task must finish or be
 * reported, with exactly one upstream task each (none for a submission proven never to have
 * arrived) and its callback received.
 */
const DEATH_RATE = 0.03
const stack = new ReliabilityStack()
let key = ''
let crashApi = false

beforeAll(async () => {
  await stack.start({
    apiCrashes: {
      afterIntent: async () => {
        if (crashApi && Math.random() < DEATH_RATE)
          throw new Error('injected: API died after writing the intent, before taking the domain')
      },
      before: async () => {
        if (crashApi && Math.random() < DEATH_RATE)
          throw new Error('injected: API died after writing the intent')
      },
      after: async () => {
        if (crashApi && Math.random() < DEATH_RATE)
          throw new Error('injected: API died after the upstream call')
      },
    },
  })
  key = (
    await stack.newKey(
      'faults',
      ['ds:write', 'dns:write', 'sync:write', 'tasks:read'],
      stack.receiver.url,
    )
  ).key
})
afterAll(() => stack.stop())

const deaths = new Map<string, number>()
const hang = () => new Promise<never>(() => {})

/** A poller that may die at any step: once dead, every further call it makes never returns. */
function mortal(deps: PollerDeps, rate: number): PollerDeps {
  let dead = false
  // Callbacks this poller delivered and has not yet recorded: if it dies now, each may be sent
  // again by the next poller (at-least-once; receivers deduplicate on webhook-id).
  const deliveredUnrecorded = new Set<string>()
  const dies = (point: string) => {
    if (dead) return true
    if (Math.random() >= rate) return false
    dead = true
    deaths.set(point, (deaths.get(point) ?? 0) + 1)
    deaths.set(
      'with a delivered callback unrecorded',
      (deaths.get('with a delivered callback unrecorded') ?? 0) + deliveredUnrecorded.size,
    )
    return true
  }
  const wrap =
    <A extends unknown[], R>(point: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (dies(`before ${point}`)) return hang()
      const result = await fn(...args)
      if (dies(`after ${point}`)) return hang()
      return result
    }
  const tasks: TaskStore = {
    ...passThrough(deps.tasks),
    replace: wrap('task write', async (next: Task, version: number) => {
      const ok = await deps.tasks.replace(next, version)
      if (next.callback.state !== 'sending') deliveredUnrecorded.delete(`msg_${next.id}`)
      return ok
    }),
  }
  return {
    ...deps,
    tasks,
    upstream: {
      queryAllTaskDetails: wrap('poll', (input) => deps.upstream.queryAllTaskDetails(input)),
      queryTaskList: wrap('reconcile list', (input) => deps.upstream.queryTaskList(input)),
      queryTaskDetailList: wrap('reconcile detail', (input) =>
        deps.upstream.queryTaskDetailList(input),
      ),
    },
    sendWebhook: wrap('send', async (message) => {
      const result = await deps.sendWebhook(message)
      if (result.outcome === 'delivered') deliveredUnrecorded.add(message.id)
      return result
    }),
    deliveries: {
      ...deps.deliveries,
      record: wrap('attempt log', (...args) => deps.deliveries.record(...args)),
    },
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}

const KINDS: readonly FaultKind[] = FAULT_KINDS

it(
  `${RUN_SECONDS} s of faults, then recovery: nothing lost, nothing doubled`,
  async () => {
    const requests = new Map<string, Set<string>>()
    const accepted = new Set<string>()
    const changes = new Set<string>()
    let queued = 0
    const statuses = new Map<number, number>()
    let sequence = 0
    const started = Date.now()
    const deadline = started + RUN_SECONDS * 1000
    let faultRate = 0.01
    crashApi = true
    stack.receiver.reply = () => (Math.random() < 0.2 ? { status: 503 } : { status: 204 })

    async function logicalRequest(method: string, path: string, body: unknown) {
      const idempotencyKey = `fault-${++sequence}`
      const seen = new Set<string>()
      requests.set(idempotencyKey, seen)
      for (let attempt = 0; attempt < 40; attempt++) {
        const answer = await call(stack, key, method, path, body, {
          'idempotency-key': idempotencyKey,
        }).catch(() => ({ status: 599, body: {} as Record<string, unknown> }))
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        if (answer.status === 202 && Array.isArray(answer.body.steps)) {
          // A desired-state change: its steps are tasks; the change sends its own webhook.
          changes.add(String(answer.body.id))
          for (const step of answer.body.steps) accepted.add(String(step))
          return
        }
        const id = answer.body.id ?? answer.body.taskId
        if (typeof id === 'string') seen.add(id)
        if (answer.status === 202) {
          accepted.add(String(answer.body.id))
          if (answer.body.status === 'queued') queued++
          return
        }
        const retry =
          answer.status >= 500 ||
          answer.status === 429 ||
          (answer.status === 409 && answer.body.title === 'Idempotency key in use')
        if (!retry) return
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
    }

    const KEYS = [1, 2, 3].map((n) => ({
      keyTag: 50_000 + n,
      algorithm: 13,
      digestType: 2,
      digest: String(n).repeat(64),
    }))
    async function client() {
      while (Date.now() < deadline) {
        // Some domains are hot: their tasks wait in the domain's queue.
        const domain =
          Math.random() < 0.1
            ? `fault-hot-${Math.floor(Math.random() * 5)}.com`
            : `fault-${Math.floor(Math.random() * 2000)}.com`
        const dice = Math.random()
        if (dice < 0.1)
          await logicalRequest(
            'PUT',
            `/domains/fault-desired-${Math.floor(Math.random() * 8)}.com/ds`,
            {
              records: KEYS.filter(() => Math.random() < 0.5).slice(0, 2),
              allowEmpty: true,
            },
          )
        else if (dice < 0.5)
          await logicalRequest('POST', `/domains/${domain}/ds`, {
            keyTag: sequence % 65_536,
            algorithm: 13,
            digestType: 2,
            digest: SHA256_DIGEST,
          })
        else if (dice < 0.8) await logicalRequest('POST', `/domains/${domain}/ds/sync`, undefined)
        else
          await logicalRequest('POST', '/dns-batch', {
            domains: [domain, `fb-${sequence}.org`],
            aliyunDns: true,
          })
      }
    }

    // A burst on one domain first: whatever the run's length, some tasks wait in a queue.
    await Promise.all(
      [1, 2, 3].map(() => logicalRequest('POST', '/domains/fault-burst.com/ds/sync', undefined)),
    )
    // Pollers come and go: each round a new one, which may die; dead ones are simply abandoned.
    let faulty = true
    const pollerLoop = (async () => {
      while (faulty) {
        const deps = mortal(stack.pollerDeps(), DEATH_RATE)
        await Promise.race([
          runPoller(deps, Date.now() + 800).catch(() => undefined),
          new Promise((resolve) => setTimeout(resolve, 1_200)),
        ])
      }
    })()

    // The fault rate climbs from 1 % to 50 %; the database goes away for a while in the middle.
    const chaos = (async () => {
      let dbStopped = false
      while (Date.now() < deadline) {
        const elapsed = (Date.now() - started) / (RUN_SECONDS * 1000)
        faultRate = Math.min(0.5, 0.01 + elapsed * 0.5)
        stack.emulator.faults.set(
          KINDS.map((kind) => ({
            kind,
            rate: faultRate / KINDS.length,
            ms: kind === 'slowBody' || kind === 'latency' ? 200 : 0,
          })),
        )
        if (!dbStopped && elapsed > 0.4) {
          dbStopped = true
          await stack.stopDb()
          await new Promise((resolve) => setTimeout(resolve, 1_500))
          await stack.restartDb()
        }
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    })()

    await Promise.all([...Array.from({ length: 8 }, client), chaos])
    faulty = false
    crashApi = false
    await pollerLoop
    stack.emulator.faults.set([])
    stack.receiver.reply = () => ({ status: 204 })

    // Recovery: healthy pollers until every task of the tenant is finished and called back.
    const healthy = stack.pollerDeps({ concurrency: 32 })
    const readTask = async (id: string): Promise<Task | undefined> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await stack.apiDeps.tasks.get(id, Date.now())
        } catch (error) {
          // Connections opened before the restart may still be reset once; read again.
          if (attempt >= 5) throw error
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
    }
    // Every task of the tenant (also the steps of a change whose PUT died mid-request), from the
    // tenant's listing — a few queries, not a read per task, which would crowd out the pollers —
    // plus any task a request saw that the listing lacks.
    const all = async () => {
      const found = new Map<string, Task>()
      let start: Record<string, unknown> | undefined
      do {
        const page = await stack.apiDeps.tasks
          .listByTenant('faults', {}, 100, start, Date.now())
          .catch(() => ({ items: [] as Task[], next: undefined }))
        for (const task of page.items) found.set(task.id, task)
        start = page.next
      } while (start)
      const ids = new Set<string>(accepted)
      for (const seen of requests.values()) for (const id of seen) ids.add(id)
      for (const id of ids) {
        if (found.has(id)) continue
        const task = await readTask(id)
        if (task) found.set(id, task)
      }
      return [...found.values()]
    }
    const settled = (task: Task) =>
      isTerminal(task.status) &&
      (!task.callback.url ||
        ['delivered', 'none'].includes(task.callback.state) ||
        (task.status === 'rejected' && task.callback.state === 'none'))
    let tasks = await all()
    // Liveness, not speed: under CPU pressure recovery is slow (a few callbacks a second when
    // everything shares one starved core), so it goes on while tasks keep settling and fails once
    // nothing has settled for a minute, or when the test's own time runs short.
    const recoveryStarted = Date.now()
    const recoveryDeadline = started + (RUN_SECONDS * 4 + 180) * 1000
    const progress: string[] = []
    let fewest = Number.POSITIVE_INFINITY
    let lastProgress = Date.now()
    while (
      !tasks.every(settled) &&
      Date.now() - lastProgress < 60_000 &&
      Date.now() < recoveryDeadline
    ) {
      const runStarted = Date.now()
      const stats = await runPoller(healthy, Date.now() + 5_000).catch(() => undefined)
      const readStarted = Date.now()
      tasks = await all()
      const unsettled = tasks.filter((task) => !settled(task)).length
      if (unsettled < fewest) {
        fewest = unsettled
        lastProgress = Date.now()
      }
      progress.push(
        `+${Math.round((runStarted - recoveryStarted) / 1000)}s run ${readStarted - runStarted}ms ${JSON.stringify(stats?.outcomes ?? {})} read ${Date.now() - readStarted}ms unsettled ${unsettled}`,
      )
    }
    console.log(
      `faults recovery (${Math.round((Date.now() - recoveryStarted) / 1000)} s):\n${progress.join('\n')}`,
    )
    const openChanges = async () =>
      (
        await Promise.all(
          [...changes].map((id) =>
            stack.apiDeps.changes.get(id, Date.now()).catch(() => undefined),
          ),
        )
      ).filter((change) => change?.status === 'running')
    while ((await openChanges()).length > 0 && Date.now() < recoveryDeadline + 30_000) {
      await runPoller(healthy, Date.now() + 2_000).catch(() => undefined)
    }
    const stuck = await Promise.all(
      (await openChanges()).map(async (change) => {
        const steps = await Promise.all(
          (change?.steps ?? []).map((id) => stack.apiDeps.tasks.get(id, Date.now())),
        )
        return `${change?.id} due ${change?.dueAt === undefined ? '-' : change.dueAt - Date.now()} lease ${JSON.stringify(change?.lease)} steps ${steps.map((step) => `${step?.id ?? 'missing'} ${step?.status ?? ''}`).join(', ')}`
      }),
    )
    expect(stuck).toEqual([])
    console.log(
      `faults: ${sequence} logical requests, ${accepted.size} accepted (${queued} queued at acceptance), ${changes.size} changes, ${tasks.length} gateway tasks; statuses ${JSON.stringify(Object.fromEntries(statuses))}; poller deaths ${JSON.stringify(Object.fromEntries(deaths))}; final ${JSON.stringify(countBy(tasks.map((task) => task.status)))}`,
    )
    // An unsettled task is shown with what it waits for: its due time and lease, and each
    // target's holder (with the holder's status) and queue.
    const whatItWaitsFor = async (snapshot: Task) => {
      const task = (await readTask(snapshot.id)) ?? snapshot
      const at = Date.now()
      const targets = await Promise.all(
        task.details.map(async ({ target }) => {
          const lock = await stack.apiDeps.targetLocks.read(target)
          const holder = lock.holder ? await readTask(lock.holder) : undefined
          const place = task.queue ? lock.waiters.indexOf(task.queue.ticket) : -1
          return `${target}: holder ${lock.holder ?? '-'} ${holder?.status ?? ''} until ${lock.until === undefined ? '-' : lock.until - at} waiters ${lock.waiters.length} mine at ${place}`
        }),
      )
      return `${task.id} ${task.status} ${task.callback.state} due ${task.dueAt === undefined ? '-' : task.dueAt - at} lease ${task.lease ? task.lease.until - at : '-'} queue ${JSON.stringify(task.queue ?? null)} polls ${task.pollCount} [${targets.join('; ')}]`
    }
    expect(await Promise.all(tasks.filter((task) => !settled(task)).map(whatItWaitsFor))).toEqual(
      [],
    )

    // Exactly one upstream task per task that reached the registry; none unaccounted for upstream.
    const byTaskNo = new Map<string, string[]>()
    for (const task of tasks) {
      if (task.upstream.taskNo)
        byTaskNo.set(task.upstream.taskNo, [...(byTaskNo.get(task.upstream.taskNo) ?? []), task.id])
    }
    for (const [taskNo, owners] of byTaskNo) expect(owners, taskNo).toHaveLength(1)
    // Every upstream task belongs to a gateway task; the message explains any that does not.
    const orphans = [...stack.emulator.account.tasks.values()].filter(
      (upstream) => !byTaskNo.has(upstream.taskNo),
    )
    const explain = orphans.map((upstream) => {
      const kind = upstream.kind as { domain?: string; domains?: readonly string[] }
      const target = kind.domain ?? kind.domains?.[0] ?? ''
      const related = tasks.filter((task) =>
        task.details.some((detail) => detail.target === target),
      )
      return `${upstream.taskNo} ${target} upstream created ${new Date(upstream.createdAt).toISOString()}: ${related
        .map(
          (task) =>
            `${task.id} ${task.status} ${task.error?.code ?? ''} created ${task.createdAt} taskNo ${task.upstream.taskNo}`,
        )
        .join(' | ')}`
    })
    expect(explain).toEqual([])
    for (const [idempotencyKey, seen] of requests) {
      const upstream = [...seen].filter(
        (id) => tasks.find((task) => task.id === id)?.upstream.taskNo,
      )
      expect(upstream.length, idempotencyKey).toBeLessThanOrEqual(1)
    }
    for (const task of tasks.filter((candidate) => !candidate.upstream.taskNo)) {
      expect(task.status, task.id).toBe('rejected')
    }
    // Every request answered 202 was carried out or refused by the service for a stated reason:
    // none handed back as NotSubmitted, however its process died between intent and wire.
    const handedBack = tasks.filter(
      (task) => accepted.has(task.id) && task.error?.code === 'NotSubmitted',
    )
    expect(handedBack.map((task) => `${task.id} ${task.error?.message}`)).toEqual([])
    console.log(
      `faults: ${tasks.filter((task) => (task.resends ?? 0) > 0).length} accepted tasks proven never sent and sent again`,
    )
    expect(queued).toBeGreaterThan(0)

    // Every accepted task was called back; a duplicate only where a poller died after sending.
    const delivered = new Map<string, number>()
    for (const request of stack.receiver.received) {
      if (request.status && request.status < 300)
        delivered.set(request.id, (delivered.get(request.id) ?? 0) + 1)
    }
    for (const id of accepted) expect(delivered.has(`msg_${id}`), id).toBe(true)
    for (const id of changes) expect(delivered.has(`msg_evt_${id.slice(4)}`), id).toBe(true)
    const duplicates = [...delivered.values()].filter((count) => count > 1).length
    console.log(
      `faults: ${delivered.size} callbacks delivered, ${duplicates} delivered twice (receivers deduplicate on webhook-id)`,
    )
    // A message reaches the receiver twice only when the sender could not know the outcome of an
    // earlier attempt: it timed out or lost its connection, was interrupted (its run stopped),
    // or a poller died holding a delivered, unrecorded callback (counted above).
    const unexplained: string[] = []
    let deathsLeft = deaths.get('with a delivered callback unrecorded') ?? 0
    for (const [webhookId, count] of delivered) {
      if (count < 2) continue
      const attempts = await stack.apiDeps.deliveries.list(webhookId.replace(/^msg_/, ''))
      const unknownOutcome = attempts.some(
        (attempt) =>
          attempt.outcome === 'interrupted' ||
          (attempt.outcome === 'failed' && attempt.statusCode === undefined),
      )
      if (unknownOutcome) continue
      if (deathsLeft > 0) {
        deathsLeft--
        continue
      }
      unexplained.push(`${webhookId}: ${JSON.stringify(attempts)}`)
    }
    expect(unexplained).toEqual([])
    expect(stack.leakedSecrets()).toEqual([])
  },
  (RUN_SECONDS * 4 + 300) * 1000,
)
