import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { planShardWork } from '#shared/poller/shard-work.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { DynamoDbTaskStore } from '#shared/store/dynamodb-task-store.ts'
import { startRecordingProxy } from '../test/helpers/recording-proxy.ts'
import { fmt, header, table, UNSERVED_DOMAINS } from './lib.ts'
import { seedPendingTasks } from './pending-tasks.ts'
import { startStoreProcess } from './store-process.ts'

/**
 * Fan-out drain (issue 26): tasks due at once, each finished upstream (the emulator adds a
 * latency to every QueryTaskDetailList), drained by 1, 2 and 4 workers — each its own process, as
 * each Lambda is — sharing the store process and the emulator. Against two bounds from the same
 * run: the upstream-bound time (calls × latency ÷ all workers' concurrency) and the store-bound
 * time (the drain's requests at the rate the store process sustains).
 */
const SIZE = Number(process.env.BENCH_FANOUT_SIZE ?? 20_000)
const WORKERS = (process.env.BENCH_FANOUT_WORKERS ?? '1,2,4').split(',').map(Number)
/**
 * Two regimes: 50 ms per upstream poll, where the one store process bounds the drain, and 400 ms
 * (a far region, a slow hour), where the upstream calls in flight do — a fifth as many tasks.
 */
const SCENARIOS = [
  { size: SIZE, latencyMs: 50 },
  { size: Math.ceil(SIZE / 5), latencyMs: 400 },
]
const CONCURRENCY = 32
const CALIBRATION = 1_000
const credential = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' }

const db = await startStoreProcess()
const emulator = await startEmulator({
  credentials: [credential],
  account: { taskMs: 1 },
  faults: [{ kind: 'latency', ms: 50, actions: ['QueryTaskDetailList'] }],
})

function envFor(tableName: string, endpoint: string): Record<string, string> {
  return {
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_REGION: 'local',
    ALIYUN_ENDPOINT: emulator.url,
    ...UNSERVED_DOMAINS,
    ALIYUN_ACCESS_KEY_ID: credential.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: credential.accessKeySecret,
    ALIYUN_MAX_CONNECTIONS: String(CONCURRENCY),
  }
}

async function seededTable(tableName: string, count: number, endpoint: string) {
  await ensureTable(db.endpoint, tableName)
  const gateway = loadSettings(envFor(tableName, endpoint))
  const store = new DynamoDbTaskStore(
    createDocumentClient(gateway.store),
    tableName,
    gateway.store.dueShards,
  )
  await seedPendingTasks(store, emulator, tableName, count)
  return { gateway, store }
}

// Store requests per drained task, counted through the recording proxy on a small drain.
const proxy = await startRecordingProxy(db.endpoint)
const requestsPerTask = await (async () => {
  const { gateway } = await seededTable('fanout-calibration', CALIBRATION, proxy.endpoint)
  const deps = buildPollerDeps(gateway, { logger: silentLogger })
  proxy.operations.length = 0
  await runPoller(
    {
      ...deps,
      sweepDueIndex: undefined,
      settings: { ...deps.settings, concurrency: CONCURRENCY, batchSize: 200 },
    },
    Date.now() + 10 * 60_000,
  )
  return proxy.operations.length / CALIBRATION
})()
await proxy.close()

// What the store process sustains: single-item requests, half reads and half writes, 32 at a
// time from one process (as the drain's requests are), straight to it.
const storeOpsPerSecond = await (async () => {
  const { store } = await seededTable('fanout-probe', 500, db.endpoint)
  const sample = await store.get(`tsk_fanout-probe${'0'.padStart(16, '0')}`, 0)
  if (!sample) throw new Error('the probe table has no task')
  const PROBES = 3_000
  let issued = 0
  const started = performance.now()
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (issued < PROBES) {
        const n = issued++
        if (n % 2 === 0)
          await store.get(`tsk_fanout-probe${String(n % 500).padStart(16, '0')}`, Date.now())
        else await store.create({ ...sample, id: `tsk_probe${String(n).padStart(16, '0')}` })
      }
    }),
  )
  return PROBES / ((performance.now() - started) / 1000)
})()

function startWorker(env: Record<string, string>, shards: readonly number[]) {
  const child = spawn(resolve('node_modules/.bin/tsx'), ['bench/fixtures/fanout-worker.ts'], {
    env: {
      ...process.env,
      ...env,
      BENCH_SHARDS: shards.join(','),
      BENCH_CONCURRENCY: String(CONCURRENCY),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines: string[] = []
  let buffered = ''
  child.stdout?.on('data', (data: Buffer) => {
    buffered += data.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts)
  })
  const line = (test: (text: string) => boolean) =>
    new Promise<string>((done, fail) => {
      const timer = setInterval(() => {
        const found = lines.find(test)
        if (found !== undefined) {
          clearInterval(timer)
          done(found)
        } else if (child.exitCode !== null) {
          clearInterval(timer)
          fail(new Error(`a worker exited (${child.exitCode}) before it said so`))
        }
      }, 5)
    })
  return { child, line }
}

interface Drain {
  size: number
  latencyMs: number
  workers: number
  completed: number
  seconds: number
}
const drains: Drain[] = []
for (const { size, latencyMs } of SCENARIOS)
  for (const workers of WORKERS) {
    emulator.faults.set([{ kind: 'latency', ms: latencyMs, actions: ['QueryTaskDetailList'] }])
    const tableName = `fanout-${latencyMs}-${workers}`
    await seededTable(tableName, size, db.endpoint)
    const env = envFor(tableName, db.endpoint)
    const parts = planShardWork(loadSettings(env).store.dueShards, workers, 0)
    const started = parts.map((part) => startWorker(env, part.shards))
    await Promise.all(started.map((worker) => worker.line((text) => text === 'ready')))
    const begin = performance.now()
    const notAfter = Date.now() + 30 * 60_000
    for (const { child } of started) (child as ChildProcess).stdin?.write(`${notAfter}\n`)
    const results = await Promise.all(
      started.map(
        async (worker) =>
          JSON.parse(await worker.line((text) => text.startsWith('{'))) as { completed: number },
      ),
    )
    drains.push({
      size,
      latencyMs,
      workers,
      completed: results.reduce((sum, result) => sum + result.completed, 0),
      seconds: (performance.now() - begin) / 1000,
    })
  }
await emulator.close()
await db.close()

header('Poller fan-out drain')
console.log(
  `Tasks due at once, each already finished upstream; the emulator adds the latency given to every QueryTaskDetailList. Each worker is its own process with ${CONCURRENCY} tasks at a time, draining the due-index shards its part names (8 shards dealt round-robin); all share one store process and one emulator on this 2-core machine. Upstream-bound = tasks × latency ÷ (${CONCURRENCY} × workers); store-bound = tasks × ${fmt(requestsPerTask, 2)} requests (counted on a ${CALIBRATION}-task drain) ÷ ${fmt(storeOpsPerSecond, 0)} requests/s (the store process, probed in this run).\n`,
)
table([
  [
    'due tasks',
    'poll latency',
    'workers',
    'completed',
    'drain s',
    'tasks/s',
    '× one worker',
    'upstream-bound s',
    'store-bound s',
    '× max(bounds)',
  ],
  ...drains.map((drain) => {
    const one = drains.find((other) => other.latencyMs === drain.latencyMs && other.workers === 1)
    const upstreamBound = (drain.size * drain.latencyMs) / (CONCURRENCY * drain.workers) / 1000
    const storeBound = (drain.size * requestsPerTask) / storeOpsPerSecond
    return [
      drain.size,
      `${drain.latencyMs} ms`,
      drain.workers,
      drain.completed,
      fmt(drain.seconds, 1),
      fmt(drain.completed / drain.seconds, 0),
      one ? fmt(one.seconds / drain.seconds, 2) : '—',
      fmt(upstreamBound, 1),
      fmt(storeBound, 1),
      fmt(drain.seconds / Math.max(upstreamBound, storeBound), 2),
    ]
  }),
])
process.exit(0)
