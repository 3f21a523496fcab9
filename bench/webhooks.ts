import { buildApiDeps } from '#functions/api/deps.ts'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { startLocalStack } from '#infra/local/local-stack.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { DynamoDbTaskStore } from '#shared/store/dynamodb-task-store.ts'
import type { Task } from '#shared/tasks/task.ts'
import { TestReceiver } from '../test/helpers/receiver.ts'
import { fmt, header, percentile, table } from './lib.ts'
import { startStoreProcess } from './store-process.ts'

/**
 * Webhook delivery: (1) callbacks per second from the poller to a local receiver, for tasks whose
 * callback is due; (2) submit-to-callback latency in local mode (`npm start`) with the defaults.
 */
const CALLBACKS = Number(process.env.BENCH_CALLBACKS ?? 2000)
const SUBMISSIONS = Number(process.env.BENCH_SUBMISSIONS ?? 40)

// (1) Throughput.
const db = await startStoreProcess()
const receiver = new TestReceiver()
await receiver.start()
const env = {
  TABLE_NAME: 'bench-webhooks',
  DYNAMODB_ENDPOINT: db.endpoint,
  AWS_REGION: 'local',
  ALIYUN_ACCESS_KEY_ID: 'unused',
  ALIYUN_ACCESS_KEY_SECRET: 'unused',
  CALLBACK_ALLOW_HTTP: 'true',
  CALLBACK_ALLOW_LOOPBACK: 'true',
}
await ensureTable(db.endpoint, env.TABLE_NAME)
const settings = loadSettings(env)
const apiDeps = buildApiDeps(settings, { logger: silentLogger })
const key = await createApiKey(apiDeps, {
  tenant: 'bench',
  scopes: ['tasks:read'],
  callbackUrl: receiver.url,
})
const store = new DynamoDbTaskStore(
  createDocumentClient(settings.store),
  env.TABLE_NAME,
  settings.store.dueShards,
)
const now = Date.now()
const iso = new Date(now).toISOString()
const seeded: Task[] = Array.from({ length: CALLBACKS }, (_, i) => ({
  id: `tsk_hook${String(i).padStart(16, '0')}`,
  tenant: 'bench',
  keyId: key.id,
  action: 'ds.sync',
  status: 'succeeded',
  version: 1,
  command: { action: 'ds.sync', domain: `hook-${i}.example.com` },
  upstream: { taskNo: `no-${i}` },
  details: [{ target: `hook-${i}.example.com`, status: 'succeeded' }],
  callback: { url: receiver.url, state: 'scheduled', attempts: 0, nextAttemptAt: iso },
  createdAt: iso,
  updatedAt: iso,
  completedAt: iso,
  dueAt: now,
  pollCount: 1,
}))
for (let start = 0; start < seeded.length; start += 64) {
  await Promise.all(seeded.slice(start, start + 64).map((task) => store.create(task)))
}
const pollerDeps = buildPollerDeps(settings, { logger: silentLogger })
const started = performance.now()
await runPoller(
  { ...pollerDeps, settings: { ...pollerDeps.settings, concurrency: 32, batchSize: 200 } },
  Date.now() + 10 * 60_000,
)
const seconds = (performance.now() - started) / 1000
const delivered = receiver.countsById().size
await receiver.stop()
await db.close()

// (2) Latency in local mode, defaults (emulator tasks take EMULATOR_TASK_MS = 2000 ms).
const stack = await startLocalStack({
  PORT: '0',
  EMULATOR_PORT: '0',
  CALLBACK_RECEIVER_PORT: '0',
  LOG_LEVEL: 'error',
})
const arrived = new Map<string, number>()
const originalPush = stack.receiver?.received.push.bind(stack.receiver.received)
if (stack.receiver && originalPush) {
  stack.receiver.received.push = (...items) => {
    for (const item of items) arrived.set(item.id, performance.now())
    return originalPush(...items)
  }
}
const submittedAt = new Map<string, number>()
for (let i = 0; i < SUBMISSIONS; i++) {
  const before = performance.now()
  const response = await fetch(`${stack.apiUrl}/domains/latency-${i}.example.com/ds/sync`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.devKey}` },
  })
  const { id } = (await response.json()) as { id: string }
  submittedAt.set(`msg_${id}`, before)
  await new Promise((resolve) => setTimeout(resolve, 100))
}
const deadline = Date.now() + 60_000
while ([...submittedAt.keys()].some((id) => !arrived.has(id)) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100))
}
const latencies = [...submittedAt].map(([id, at]) => (arrived.get(id) ?? Number.NaN) - at)
await stack.stop()

header('Webhook delivery')
table([
  ['measure', 'value'],
  [`callbacks delivered (of ${CALLBACKS} due at once)`, delivered],
  ['callbacks per second (32 at a time, receiver on loopback)', fmt(delivered / seconds, 0)],
  [
    `submit → callback p50, local mode defaults (${SUBMISSIONS} tasks)`,
    `${fmt(percentile(latencies, 50) / 1000, 2)} s`,
  ],
  ['submit → callback p99', `${fmt(percentile(latencies, 99) / 1000, 2)} s`],
])
console.log(
  '\nThe latency is mostly the emulated registry (a task takes EMULATOR_TASK_MS = 2 s) plus the first poll delay (2 s) and the local poll interval (0.5 s).',
)
process.exit(0)
