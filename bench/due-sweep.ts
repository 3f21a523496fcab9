import { ScanCommand } from '@aws-sdk/lib-dynamodb'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { sweepDueIndex } from '#shared/poller/sweep-due-index.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { createStores } from '#shared/store/stores.ts'
import type { Task } from '#shared/tasks/task.ts'
import { newTask } from '#shared/tasks/task-states.ts'
import { startRecordingProxy } from '../test/helpers/recording-proxy.ts'
import { DEFAULTS } from '../test/helpers/settings.ts'
import { fmt, header, table } from './lib.ts'
import { startStoreProcess } from './store-process.ts'

/**
 * The hourly due-index sweep's reads as the history grows: the same open work (50 overdue tasks)
 * beside 1 000 and then 10 000 finished tasks kept for their retention. The sweep queries the
 * sparse open-work index; the baseline, measured in the same run on the same table, is what the
 * sweep did before — a paged Scan of the base table with the same filter.
 */
const OPEN = 50
const HISTORY = (process.env.BENCH_SWEEP_HISTORY ?? '1000,10000').split(',').map(Number)

const db = await startStoreProcess()
const proxy = await startRecordingProxy(db.endpoint)
const env = {
  TABLE_NAME: 'sweep-bench',
  DYNAMODB_ENDPOINT: proxy.endpoint,
  AWS_REGION: 'local',
  ALIYUN_ACCESS_KEY_ID: 'LTAIbench',
  ALIYUN_ACCESS_KEY_SECRET: 'bench-secret',
}
await ensureTable(db.endpoint, env.TABLE_NAME)
const config = loadSettings(env).store
const stores = createStores(config)
const client = createDocumentClient(config)
const hourAgo = Date.now() - 3_600_000
const task = (id: string, status: Task['status']): Task => ({
  ...newTask(
    {
      tenant: 'bench',
      keyId: 'k',
      command: { action: 'ds.sync', domain: `${id}.example.com` },
      callbackUrl: undefined,
    },
    id,
    hourAgo,
  ),
  status,
  dueAt: status === 'succeeded' ? undefined : hourAgo,
  ...(status === 'succeeded' ? { completedAt: new Date(hourAgo).toISOString() } : {}),
})
async function put(tasks: readonly Task[]) {
  for (let start = 0; start < tasks.length; start += 64) {
    await Promise.all(tasks.slice(start, start + 64).map((item) => stores.tasks.create(item)))
  }
}
await put(Array.from({ length: OPEN }, (_, i) => task(`tsk_open${i}`, 'queued')))

/** Requests and items read by one full sweep pass, and by a Scan of the base table. */
async function measure() {
  proxy.operations.length = 0
  let examined = 0
  for (let pass = 0; ; pass++) {
    const result = await sweepDueIndex({
      store: stores.dueSweep,
      now: Date.now,
      logger: silentLogger,
      settings: {
        ...DEFAULTS.dueSweep,
        owner: `bench-${pass}`,
        intervalMs: 0,
        leaseMs: 0,
      },
    })
    examined += result?.examined ?? 0
    if (result?.passDone) break
  }
  const sweepRequests = proxy.operations.length
  proxy.operations.length = 0
  let scanned = 0
  let start: Record<string, unknown> | undefined
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: env.TABLE_NAME,
        FilterExpression: '#type = :task AND dueAt < :before',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: { ':task': 'task', ':before': Date.now() - 600_000 },
        Limit: DEFAULTS.dueSweep.pageSize,
        ExclusiveStartKey: start,
      }),
    )
    scanned += page.ScannedCount ?? 0
    start = page.LastEvaluatedKey
  } while (start)
  return { examined, sweepRequests, scanned, scanRequests: proxy.operations.length }
}

const rows: (string | number)[][] = []
let kept = 0
for (const history of HISTORY) {
  await put(
    Array.from({ length: history - kept }, (_, i) => task(`tsk_done${kept + i}`, 'succeeded')),
  )
  kept = history
  const run = await measure()
  rows.push([
    OPEN,
    history,
    run.examined,
    run.sweepRequests,
    run.scanned,
    run.scanRequests,
    fmt(run.examined / run.scanned, 3),
  ])
}
await proxy.close()
await db.close()

header('Due-index sweep: reads against the history kept')
console.log(
  `${OPEN} overdue open tasks beside a growing number of finished ones (the 30-day retention's history). A full sweep pass queries the open-work index (\`byOpen\`) shard by shard and rewrites each overdue item; the baseline is the previous sweep, a paged Scan of the base table with the same filter, on the same table in the same run. Requests include the sweep's own state reads and writes and its rewrites.\n`,
)
table([
  [
    'open tasks',
    'finished tasks',
    'sweep: items read',
    'sweep: requests',
    'Scan: items read',
    'Scan: requests',
    'items read, sweep ÷ Scan',
  ],
  ...rows,
])
process.exit(0)
