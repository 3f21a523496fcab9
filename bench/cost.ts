import { buildPollerDeps } from '#functions/poller/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { DynamoDbTaskStore } from '#shared/store/dynamodb-task-store.ts'
import { localDynamoDb } from '../test/helpers/gateway.ts'
import { FAST_SETTINGS, startPipeline } from '../test/helpers/pipeline.ts'
import { type RecordedOperation, startRecordingProxy } from '../test/helpers/recording-proxy.ts'
import { fmt, header, median, percentile, table } from './lib.ts'
import { seedPendingTasks } from './pending-tasks.ts'
import { upstreamCallCounter } from './upstream-calls.ts'

/**
 * What a million accepted tasks cost on AWS, from what this run measures: the DynamoDB requests
 * and capacity units of each task's whole life (accepted through the API, polled until final,
 * its callback delivered), the API's time per request, and the poller's wall time per poll in a
 * saturated drain — priced at on-demand list prices; against an app that calls the SDK itself
 * and polls from its own Lambda until the task ends.
 *
 * Time is scaled 1:5 so the run is short: upstream tasks take 4 s (20 s on the real service)
 * and the poll schedule is the default one divided by 5, so the polls per task are the real
 * schedule's.
 */
const TASKS = Number(process.env.BENCH_COST_TASKS ?? 200)
/** Submissions in flight at once: few enough that the poller, in the same process, keeps up. */
const ACCEPTING = 4
const SCALE = 5
const TASK_MS = 4_000
const DEFAULT_POLL_DELAYS_S = [2, 3, 5, 10, 15, 30, 60, 120, 300]

/** us-east-1 on-demand list prices (USD), arm64 Lambda. */
const PRICE = {
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  httpApiRequest: 1.0 / 1e6,
  sqsRequest: 0.4 / 1e6,
}
const API_GB = 0.5
const POLLER_GB = 0.25

const db = await localDynamoDb()
// The API's requests and the poller's go through proxies of their own, so each is counted apart
// while both run at once; the bench's own reads go to the engine directly.
const apiProxy = await startRecordingProxy(db.endpoint, { capacity: true })
const pollerProxy = await startRecordingProxy(db.endpoint, { capacity: true })
const p = await startPipeline({
  emulatorTaskMs: TASK_MS,
  env: { DYNAMODB_ENDPOINT: apiProxy.endpoint, API_KEY_CACHE_SECONDS: '300' },
})
const direct = new DynamoDbTaskStore(
  createDocumentClient(loadSettings({ ...p.env, DYNAMODB_ENDPOINT: db.endpoint }).store),
  p.env.TABLE_NAME as string,
  loadSettings(p.env).store.dueShards,
)
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])
type Tally = { requests: Map<string, number>; readUnits: number; writeUnits: number }
function tally(operations: readonly RecordedOperation[]): Tally {
  const requests = new Map<string, number>()
  let readUnits = 0
  let writeUnits = 0
  for (const operation of operations) {
    requests.set(operation.operation, (requests.get(operation.operation) ?? 0) + 1)
    // An eventually consistent index query of keys costs half a unit per 4 KB, at least half.
    const units = operation.capacityUnits ?? 0.5
    if (WRITES.has(operation.operation)) writeUnits += units
    else readUnits += units
  }
  return { requests, readUnits, writeUnits }
}

// The poller, on the default schedule scaled 1:SCALE, its upstream calls counted by action.
const { metrics, calls: upstreamCalls } = upstreamCallCounter()
const built = buildPollerDeps(loadSettings({ ...p.env, DYNAMODB_ENDPOINT: pollerProxy.endpoint }), {
  logger: silentLogger,
  metrics,
  sweepDueIndex: undefined,
})
const deps = {
  ...built,
  settings: {
    ...built.settings,
    ...FAST_SETTINGS,
    owner: 'cost-bench',
    pollDelaysMs: DEFAULT_POLL_DELAYS_S.map((seconds) => (seconds * 1000) / SCALE),
  },
}
const allDelivered = async (list: readonly string[]) =>
  (await Promise.all(list.map((id) => direct.get(id, Date.now())))).every(
    (task) => task?.callback.state === 'delivered',
  )
/** Runs the poller in short runs until every task in `list` has its callback delivered. */
async function pollUntilDelivered(list: readonly string[]) {
  const bound = Date.now() + 180_000
  while (!(await allDelivered(list))) {
    if (Date.now() > bound) throw new Error('the tasks did not finish in time')
    await runPoller(deps, Date.now() + 300)
  }
}

// The API's time per request, one at a time as a Lambda serves them (the key cached after the
// first); these tasks are finished before the counting starts.
const apiMs: number[] = []
const timed: string[] = []
for (let i = 0; i < 50; i++) {
  const started = performance.now()
  const { status, id } = await p.submit(`/domains/cost-timed-${i}.example.com/ds/sync`)
  apiMs.push(performance.now() - started)
  if (status !== 202) throw new Error(`submission answered ${status}`)
  timed.push(id)
}
await pollUntilDelivered(timed)

// The counted tasks: accepted through the API while the poller runs, as in service.
apiProxy.operations.length = 0
pollerProxy.operations.length = 0
upstreamCalls.clear()
const ids: string[] = []
let next = 0
const submitting = Promise.all(
  Array.from({ length: ACCEPTING }, async () => {
    while (next < TASKS) {
      const { status, id } = await p.submit(`/domains/cost-${next++}.example.com/ds/sync`)
      if (status !== 202) throw new Error(`submission answered ${status}`)
      ids.push(id)
    }
  }),
)
let submitted = false
void submitting.then(() => {
  submitted = true
})
while (!submitted) await runPoller(deps, Date.now() + 300)
await submitting
await pollUntilDelivered(ids)
// From each upstream task's end to its callback's arrival, in the service's time (× SCALE).
const lagSeconds = await Promise.all(
  ids.map(async (id) => {
    const task = await direct.get(id, Date.now())
    const upstream = p.emulator.account.tasks.get(task?.upstream.taskNo ?? '')
    const arrived = p.receiver.received.find((request) => request.id === `msg_${id}`)?.at
    if (!upstream || arrived === undefined) throw new Error(`no end or no callback for ${id}`)
    return ((arrived - (upstream.createdAt + upstream.durationMs)) * SCALE) / 1000
  }),
)
const accepted = tally(apiProxy.operations)
const polled = tally(pollerProxy.operations)
const pollsPerTask = (upstreamCalls.get('QueryTaskDetailList') ?? 0) / TASKS

// 3. The poller's wall time per poll when it is saturated (the regime a million tasks a month
// is in at its peaks): finished tasks due at once, 50 ms per upstream poll, 32 at a time.
const DRAIN = 2_000
p.emulator.faults.set([{ kind: 'latency', ms: 50, actions: ['QueryTaskDetailList'] }])
await seedPendingTasks(direct, p.emulator, 'costdrain', DRAIN)
const drainStarted = performance.now()
const drain = await runPoller(
  { ...deps, metrics: undefined, settings: { ...deps.settings, concurrency: 32, batchSize: 200 } },
  Date.now() + 10 * 60_000,
)
const secondsPerPoll =
  (performance.now() - drainStarted) / 1000 / Math.max(1, drain.outcomes.completed ?? 0)
await p.closeAll()
await apiProxy.close()
await pollerProxy.close()

// Per task, then per million.
const requestsOf = (t: Tally) => [...t.requests.values()].reduce((sum, count) => sum + count, 0)
const storeRequests = requestsOf(accepted) / TASKS + requestsOf(polled) / TASKS
const writeUnits = (accepted.writeUnits + polled.writeUnits) / TASKS
const readUnits = (accepted.readUnits + polled.readUnits) / TASKS
const apiSeconds = median(apiMs) / 1000
// Polls, and the delivery counted as one more poll's time.
const pollerSeconds = (pollsPerTask + 1) * secondsPerPoll
const gateway = {
  dynamodb: writeUnits * PRICE.writeUnit + readUnits * PRICE.readUnit,
  lambda:
    (apiSeconds * API_GB + pollerSeconds * POLLER_GB) * PRICE.lambdaGbSecond + PRICE.lambdaRequest,
  httpApi: PRICE.httpApiRequest,
}
// The app on its own: a Lambda (128 MB) that submits, then polls every 5 s until the task ends.
const taskSeconds = (TASK_MS * SCALE) / 1000
const ownPolls = Math.ceil(taskSeconds / 5)
const own = {
  dynamodb: 0,
  lambda: (taskSeconds + 0.3) * 0.125 * PRICE.lambdaGbSecond + PRICE.lambdaRequest,
  httpApi: 0,
}
const million = (perTask: number) => fmt(perTask * 1e6, 2)
const total = (c: typeof gateway) => c.dynamodb + c.lambda + c.httpApi
const byKind = (t: Tally, per: number) =>
  [...t.requests.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([operation, count]) => `${operation} ${fmt(count / per, 2)}`)
    .join(', ')

header('Cost per million accepted tasks')
console.log(
  `${TASKS} tasks, each accepted through the API (POST …/ds/sync, ${ACCEPTING} at a time), polled until final on the default schedule (time scaled 1:${SCALE}: a ${taskSeconds}-s upstream task), its callback delivered; DynamoDB requests and capacity units counted by a proxy in front of the engine (base table only: a write to an item in an index also writes the index — up to one more unit per index it is in). API time: median in-process request time, one at a time (${fmt(apiSeconds * 1000, 1)} ms), billed at ${API_GB * 1024} MB; poller: ${fmt(pollsPerTask, 2)} polls + 1 delivery per task at ${fmt(secondsPerPoll * 1000, 2)} ms wall each (a saturated drain of ${DRAIN}, 32 at a time), billed at ${POLLER_GB * 1024} MB. us-east-1 on-demand prices, arm64.\n`,
)
table([
  ['per task', 'accepted (API)', 'polled and delivered (poller)'],
  ['DynamoDB requests', fmt(requestsOf(accepted) / TASKS, 2), fmt(requestsOf(polled) / TASKS, 2)],
  ['by operation', byKind(accepted, TASKS), byKind(polled, TASKS)],
  [
    'write / read units',
    `${fmt(accepted.writeUnits / TASKS, 2)} / ${fmt(accepted.readUnits / TASKS, 2)}`,
    `${fmt(polled.writeUnits / TASKS, 2)} / ${fmt(polled.readUnits / TASKS, 2)}`,
  ],
])
console.log('')
table([
  ['USD per million tasks', 'DynamoDB', 'Lambda', 'HTTP API', 'total', 'upstream calls / task'],
  [
    'the gateway',
    million(gateway.dynamodb),
    million(gateway.lambda),
    million(gateway.httpApi),
    million(total(gateway)),
    fmt(1 + pollsPerTask, 2),
  ],
  [
    `an app polling every 5 s from its own Lambda (128 MB, ${taskSeconds} s a task)`,
    million(own.dynamodb),
    million(own.lambda),
    million(own.httpApi),
    million(total(own)),
    fmt(1 + ownPolls, 2),
  ],
])
console.log(
  `\nFrom an upstream task's end to its callback's arrival (in the service's time): median ${fmt(median(lagSeconds), 1)} s, p95 ${fmt(percentile(lagSeconds, 95), 1)} s, the longest ${fmt(Math.max(...lagSeconds), 1)} s — the default schedule polls 2, 5, 10, 20 and 35 s after acceptance, so an end is seen up to one poll interval later (here the 20-s tasks end between the 4th and 5th poll).`,
)
console.log(
  `\nStore requests per task: ${fmt(storeRequests, 2)}. The gateway's floor, whatever the load: the scheduled run and its 4 workers each minute (216 000 short invocations, ~0.9 million SQS requests a month with Lambda's pollers) — about $0.60 a month. The app on its own pays for every second a task takes, and has no record of the task, no callback and no retries.`,
)
process.exit(0)
