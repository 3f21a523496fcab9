import { buildPollerDeps } from '#functions/poller/deps.ts'
import { adversarialBehaviour } from '#infra/emulator/behaviour.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { DynamoDbTaskStore } from '#shared/store/dynamodb-task-store.ts'
import { DynamoDbTargetLockStore } from '#shared/store/target-lock-store.ts'
import type { Task } from '#shared/tasks/task.ts'
import { startRecordingProxy } from '../test/helpers/recording-proxy.ts'
import { fmt, header, table, UNSERVED_DOMAINS, verdict } from './lib.ts'
import { seedPendingTasks } from './pending-tasks.ts'
import { startStoreProcess } from './store-process.ts'
import { upstreamCallCounter } from './upstream-calls.ts'

/**
 * Poller drain: N tasks due at once, each finished upstream, with the emulator adding 50 ms to
 * every QueryTaskDetailList; the time to take them all to completion against the ideal
 * (calls × latency ÷ concurrency), and the DynamoDB requests it took per task.
 */
const SIZES = (process.env.BENCH_DRAIN_SIZES ?? '500,5000,20000').split(',').map(Number)
const LATENCY_MS = 50
const CONCURRENCY = Number(process.env.BENCH_DRAIN_CONCURRENCY ?? 32)
const credential = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' }

const db = await startStoreProcess()
const proxy = await startRecordingProxy(db.endpoint)
/** A fresh table for one part of the run, and the poller's settings to reach it. */
async function drainTable(tableName: string, emulatorUrl: string) {
  const env = {
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: process.env.BENCH_NO_PROXY ? db.endpoint : proxy.endpoint,
    AWS_REGION: 'local',
    ALIYUN_ENDPOINT: emulatorUrl,
    ...UNSERVED_DOMAINS,
    ALIYUN_ACCESS_KEY_ID: credential.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: credential.accessKeySecret,
    ALIYUN_MAX_CONNECTIONS: String(CONCURRENCY),
  }
  await ensureTable(db.endpoint, tableName)
  const gateway = loadSettings(env)
  const store = new DynamoDbTaskStore(
    createDocumentClient(gateway.store),
    tableName,
    gateway.store.dueShards,
  )
  return { env, gateway, store }
}

interface Drained {
  size: number
  completed: number
  seconds: number
  ideal: number
  requests: number
  byOperation: Map<string, number>
}
const drained: Drained[] = []
const byOperation = () => {
  const counts = new Map<string, number>()
  for (const operation of proxy.operations)
    counts.set(operation.operation, (counts.get(operation.operation) ?? 0) + 1)
  return counts
}
for (const size of SIZES) {
  const emulator = await startEmulator({
    credentials: [credential],
    account: { taskMs: 1 },
    faults: [{ kind: 'latency', ms: LATENCY_MS, actions: ['QueryTaskDetailList'] }],
  })
  const { gateway, store } = await drainTable(`drain-${size}`, emulator.url)
  // Seed: upstream tasks already finished, gateway tasks pending and due now.
  await seedPendingTasks(store, emulator, 'drain', size)
  const deps = buildPollerDeps(gateway, { logger: silentLogger })
  const pollerDeps = {
    ...deps,
    settings: { ...deps.settings, concurrency: CONCURRENCY, batchSize: 200 },
  }
  proxy.operations.length = 0
  const started = performance.now()
  const stats = await runPoller(pollerDeps, Date.now() + 30 * 60_000)
  const seconds = (performance.now() - started) / 1000
  const completed = stats.outcomes.completed ?? 0
  const ideal = (size * LATENCY_MS) / CONCURRENCY / 1000
  drained.push({
    size,
    completed,
    seconds,
    ideal,
    requests: proxy.operations.length,
    byOperation: byOperation(),
  })
  await emulator.close()
}

// Polls that find the task still running: each is polled once and left due later.
const POLLED = SIZES[0] ?? 500
const running = await (async () => {
  const emulator = await startEmulator({
    credentials: [credential],
    account: { taskMs: 3_600_000 },
  })
  const { gateway, store } = await drainTable('drain-running', emulator.url)
  await seedPendingTasks(store, emulator, 'running', POLLED)
  // The hourly due-index sweep (one marker read per run, its scan once an hour) is left out:
  // this part measures what each poll costs.
  const deps = {
    ...buildPollerDeps(gateway, { logger: silentLogger }),
    sweepDueIndex: undefined,
  }
  proxy.operations.length = 0
  // Each task is polled once and becomes due again in 2 s: a 1.5-s budget polls each once.
  const stats = await runPoller(
    { ...deps, settings: { ...deps.settings, concurrency: CONCURRENCY, batchSize: 200 } },
    Date.now() + 1_500,
  )
  await emulator.close()
  return {
    polls: stats.outcomes.polled ?? 0,
    requests: proxy.operations.length,
    byOperation: byOperation(),
  }
})()
// Reconciling: submissions whose outcome is unknown, every one past its absence window (so each
// search must read the whole listing for a verdict), in an account that lists tasks in a random
// order among hundreds of unrelated ones; half of them did reach the registry. Upstream calls are
// counted per reconciled task (listing pages and candidates' details, shared within the process).
const RECONCILED = Number(process.env.BENCH_RECONCILE_SIZE ?? 500)
const reconciled = await (async () => {
  const emulator = await startEmulator({
    credentials: [credential],
    account: {
      taskMs: 1,
      behaviour: adversarialBehaviour(Math.random, {
        listOrder: 'random',
        listingDelayMs: 0,
        unrelatedTasks: 300,
      }),
    },
  })
  const { gateway, store } = await drainTable('reconcile', emulator.url)
  const locks = new DynamoDbTargetLockStore(createDocumentClient(gateway.store), 'reconcile')
  const intentAt = Date.now() - 30_000
  const iso = new Date(intentAt).toISOString()
  const tasks: Task[] = []
  for (let i = 0; i < RECONCILED; i++) {
    const domain = `reconcile-${i}.example.com`
    // Every other submission reached the registry; its answer was lost.
    if (i % 2 === 0) emulator.account.submit({ type: 'syncDs', domain }, '127.0.0.1', intentAt + 10)
    tasks.push({
      id: `tsk_reconcile${String(i).padStart(16, '0')}`,
      tenant: 'bench',
      keyId: 'bench',
      action: 'ds.sync',
      status: 'submitting',
      version: 1,
      command: { action: 'ds.sync', domain },
      upstream: {},
      details: [{ target: domain, status: 'pending' }],
      callback: { url: undefined, state: 'none', attempts: 0 },
      createdAt: iso,
      updatedAt: iso,
      intentAt,
      sendBy: intentAt + 1_000,
      dueAt: Date.now(),
      pollCount: 0,
    })
  }
  for (let start = 0; start < tasks.length; start += 64) {
    const batch = tasks.slice(start, start + 64)
    await Promise.all(batch.map((task) => store.create(task)))
    await Promise.all(
      batch.map((task) =>
        locks.acquire(task.details[0]?.target ?? '', task.id, Date.now() + 3_600_000),
      ),
    )
  }
  const { metrics, calls } = upstreamCallCounter()
  const deps = buildPollerDeps(gateway, { logger: silentLogger, metrics })
  const started = performance.now()
  const stats = await runPoller(
    {
      ...deps,
      // The seeded tasks were never answered 202 (not \`accepted\`): one proven absent is rejected,
      // not sent again, so this part measures the searches alone.
      sweepDueIndex: undefined,
      settings: {
        ...deps.settings,
        concurrency: CONCURRENCY,
        batchSize: 200,
        sendWindowMs: 1_000,
        timestampWindowMs: 1_000,
        maxClockSkewMs: 0,
        absenceMarginMs: 0,
        candidateSettleMs: 0,
      },
    },
    Date.now() + 10 * 60_000,
  )
  const seconds = (performance.now() - started) / 1000
  const after = await Promise.all(tasks.map((task) => store.get(task.id, Date.now())))
  await emulator.close()
  return {
    size: RECONCILED,
    adopted: after.filter((task) => task?.search?.outcome === 'found').length,
    absent: after.filter((task) => task?.search?.outcome === 'absent').length,
    seconds,
    outcomes: stats.outcomes,
    calls,
  }
})()
// What the embedded engine itself sustains: single-item reads, 32 at a time.
const probe = new DynamoDbTaskStore(
  createDocumentClient(
    loadSettings({
      TABLE_NAME: `drain-${SIZES[0]}`,
      // Through the recording proxy too: the store as the drain sees it.
      DYNAMODB_ENDPOINT: process.env.BENCH_NO_PROXY ? db.endpoint : proxy.endpoint,
      AWS_REGION: 'local',
      ALIYUN_ACCESS_KEY_ID: 'x',
      ALIYUN_ACCESS_KEY_SECRET: 'x',
    }).store,
  ),
  `drain-${SIZES[0]}`,
  8,
)
// Single-item requests as the drain makes them, half reads and half unconditional writes of a
// task-sized item, 32 at a time.
const PROBES = 3000
let issued = 0
const sample = await probe.get(`tsk_drain${'0'.padStart(16, '0')}`, 0)
const probeStarted = performance.now()
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (issued < PROBES) {
      const n = issued++
      const id = `tsk_drain${String(n % 500).padStart(16, '0')}`
      if (n % 2 === 0 || !sample) await probe.get(id, Date.now())
      else await probe.create({ ...sample, id: `tsk_probe${String(n).padStart(16, '0')}` })
    }
  }),
)
const storeOpsPerSecond = PROBES / ((performance.now() - probeStarted) / 1000)
/** Requests on the task items themselves (the due-index Query and the hourly sweep's Scan aside). */
const itemRequests = (counts: Map<string, number>) =>
  [...counts.entries()]
    .filter(([operation]) => operation !== 'Query' && operation !== 'Scan')
    .reduce((sum, [, count]) => sum + count, 0)
const kinds = (counts: Map<string, number>, per: number) =>
  [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([operation, count]) => `${operation} ${fmt(count / per, 2)}`)
    .join(', ')
const rows = drained.map((run) => {
  const perTask = run.requests / run.size
  // What the store alone allows: every request of the drain at the probed rate.
  const storeBound = run.requests / storeOpsPerSecond
  const bound = Math.max(run.ideal, storeBound)
  return [
    run.size,
    run.completed,
    fmt(run.seconds, 1),
    fmt(run.ideal, 1),
    fmt(run.seconds / run.ideal, 2),
    fmt(storeBound, 1),
    fmt(run.seconds / bound, 2),
    verdict(run.seconds / bound <= 1.2),
    fmt(perTask, 2),
    kinds(run.byOperation, run.size),
  ]
})
await proxy.close()
await db.close()

header('Poller drain')
console.log(
  `All tasks due at once, each already finished upstream; the emulator adds ${LATENCY_MS} ms to every QueryTaskDetailList; ${CONCURRENCY} tasks at a time. Ideal = tasks × ${LATENCY_MS} ms ÷ ${CONCURRENCY}.\n`,
)
table([
  [
    'due tasks',
    'completed',
    'drain s',
    'ideal s',
    '× ideal',
    'store-bound s',
    '× max(ideal, store-bound)',
    'target ≤ 1.2',
    'DynamoDB requests / task',
    'by operation / task',
  ],
  ...rows,
])
console.log(
  `\nEach task above is finished upstream, so its one poll also writes the final status and frees its domain's queue slot (claim, result, release). The embedded DynamoDB engine (dynalite, in its own process) sustains about ${fmt(storeOpsPerSecond, 0)} single-item requests/s here (half reads, half writes, 32 at a time); store-bound = the drain's requests at that rate.\n`,
)
table([
  [
    'polls of still-running tasks',
    'item requests / poll',
    'target ≤ 2.0',
    'with the amortised index reads',
    'by operation / poll',
  ],
  [
    running.polls,
    fmt(itemRequests(running.byOperation) / Math.max(1, running.polls), 2),
    verdict(itemRequests(running.byOperation) / Math.max(1, running.polls) <= 2.0),
    fmt(running.requests / Math.max(1, running.polls), 2),
    kinds(running.byOperation, Math.max(1, running.polls)),
  ],
])
console.log(
  '\nA poll that finds the task running: the claim (an UpdateItem that also reads) and the result (a PutItem); the due-index Query is shared by a page of 200.',
)
const reconcileCalls = [...reconciled.calls.values()].reduce((sum, count) => sum + count, 0)
header('Reconciler searches')
console.log(
  `${reconciled.size} submissions with an unknown outcome, each past its absence window, half of them present upstream; the account also holds 300 unrelated tasks, listed in a random order (the adversarial profile). Every search reads the whole listing of its days (no early stop, whatever the order); the listing and each candidate's targets are read once per process and shared. QueryTaskDetailList counts the one poll that finishes each adopted task.\n`,
)
table([
  [
    'submissions',
    'adopted',
    'proven absent',
    'seconds',
    'upstream calls / task',
    'by action / task',
  ],
  [
    reconciled.size,
    reconciled.adopted,
    reconciled.absent,
    fmt(reconciled.seconds, 1),
    fmt(reconcileCalls / reconciled.size, 2),
    [...reconciled.calls.entries()]
      .map(([action, count]) => `${action} ${fmt(count / reconciled.size, 2)}`)
      .join(', '),
  ],
])
process.exit(0)
