import { buildPollerDeps } from '#functions/poller/deps.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { loadGatewayConfig, loadWorkerConfig } from '#shared/config.ts'
import { silentLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { DynamoDbTaskStore } from '#shared/store/task-store.ts'
import type { Task } from '#shared/tasks/task.ts'
import { startRecordingProxy } from '../test/helpers/recording-proxy.ts'
import { fmt, header, table, verdict } from './lib.ts'
import { startStoreProcess } from './store-process.ts'

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
const rows: (string | number)[][] = []
for (const size of SIZES) {
  const emulator = await startEmulator({
    credentials: [credential],
    account: { taskMs: 1 },
    faults: [{ kind: 'latency', ms: LATENCY_MS, actions: ['QueryTaskDetailList'] }],
  })
  const env = {
    TABLE_NAME: `drain-${size}`,
    DYNAMODB_ENDPOINT: process.env.BENCH_NO_PROXY ? db.endpoint : proxy.endpoint,
    AWS_REGION: 'local',
    ALIYUN_ENDPOINT: emulator.url,
    ALIYUN_ACCESS_KEY_ID: credential.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: credential.accessKeySecret,
    ALIYUN_MAX_CONNECTIONS: String(CONCURRENCY),
  }
  await ensureTable(db.endpoint, env.TABLE_NAME)
  const gateway = loadGatewayConfig(env)
  const store = new DynamoDbTaskStore(
    createDocumentClient(gateway.store),
    env.TABLE_NAME,
    gateway.store.dueShards,
  )
  // Seed: upstream tasks already finished, gateway tasks pending and due now.
  const now = Date.now()
  const tasks: Task[] = []
  for (let i = 0; i < size; i++) {
    const domain = `drain-${i}.example.com`
    const upstream = emulator.account.submit({ type: 'syncDs', domain }, '127.0.0.1', now - 10)
    const iso = new Date(now).toISOString()
    tasks.push({
      id: `tsk_drain${String(i).padStart(16, '0')}`,
      tenant: 'bench',
      keyId: 'bench',
      action: 'ds.sync',
      status: 'pending',
      version: 1,
      command: { action: 'ds.sync', domain },
      upstream: { taskNo: upstream.taskNo },
      details: [{ target: domain, status: 'pending' }],
      callback: { url: undefined, state: 'none', attempts: 0 },
      createdAt: iso,
      updatedAt: iso,
      dueAt: now,
      pollCount: 0,
    })
  }
  for (let start = 0; start < tasks.length; start += 64) {
    await Promise.all(tasks.slice(start, start + 64).map((task) => store.create(task)))
  }
  const deps = buildPollerDeps(gateway, loadWorkerConfig(env), { logger: silentLogger })
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
  const requests = proxy.operations.length
  rows.push([
    size,
    completed,
    fmt(seconds, 1),
    fmt(ideal, 1),
    fmt(seconds / ideal, 2),
    verdict(seconds / ideal <= 1.25),
    fmt(requests / size, 2),
  ])
  await emulator.close()
}
// What the embedded engine itself sustains: single-item reads, 32 at a time.
const probe = new DynamoDbTaskStore(
  createDocumentClient(
    loadGatewayConfig({
      TABLE_NAME: `drain-${SIZES[0]}`,
      DYNAMODB_ENDPOINT: db.endpoint,
      AWS_REGION: 'local',
      ALIYUN_ACCESS_KEY_ID: 'x',
      ALIYUN_ACCESS_KEY_SECRET: 'x',
    }).store,
  ),
  `drain-${SIZES[0]}`,
  8,
)
const PROBES = 3000
let issued = 0
const probeStarted = performance.now()
await Promise.all(
  Array.from({ length: 32 }, async () => {
    while (issued < PROBES) {
      issued++
      await probe.get(`tsk_drain${String(issued % 500).padStart(16, '0')}`, Date.now())
    }
  }),
)
const storeOpsPerSecond = PROBES / ((performance.now() - probeStarted) / 1000)
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
    'target ≤ 1.25',
    'DynamoDB requests / task',
  ],
  ...rows,
])
console.log(
  `\nThe embedded DynamoDB engine (dynalite, in its own process) sustains about ${fmt(storeOpsPerSecond, 0)} single-item requests/s here; at about 3 requests per task that alone allows ${fmt(storeOpsPerSecond / 3, 0)} tasks/s, against ${fmt((CONCURRENCY * 1000) / LATENCY_MS, 0)} tasks/s for the ideal.`,
)
process.exit(0)
