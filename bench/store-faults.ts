import { isTerminal } from '#shared/tasks/task.ts'
import { localDynamoDb } from '../test/helpers/gateway.ts'
import { startPipeline } from '../test/helpers/pipeline.ts'
import { type FaultRates, startStoreFaultProxy } from '../test/helpers/store-fault-proxy.ts'
import { fmt, header, table } from './lib.ts'

/**
 * What recognising its own writes costs: the DynamoDB requests of a keyed submission (the API) and
 * of a drained task (the poller, from accepted to final and called back), counted at a proxy in
 * front of the engine — once with no faults (the baseline) and once while the store applies 5 % of
 * writes and answers 500, applies 2 % and resets, and throttles 5 %. Each phase has domains of its
 * own, so no task waits for another. The extra requests under faults are the SDK's retries and the
 * read-backs of a failed condition where the engine does not return the item (dynalite).
 */
const TASKS = Number(process.env.BENCH_STORE_TASKS ?? 100)
const AT_ONCE = 4
const FAULTS: FaultRates = { 'applied-then-500': 0.05, 'applied-then-reset': 0.02, throttled: 0.05 }

const db = await localDynamoDb()
const proxy = await startStoreFaultProxy(db.endpoint, { seed: 7 })
const p = await startPipeline({
  emulatorTaskMs: 30,
  env: { DYNAMODB_ENDPOINT: proxy.url, API_KEY_CACHE_SECONDS: '300' },
})
const total = () => [...proxy.requests.values()].reduce((sum, count) => sum + count, 0)
const reads = () =>
  ['GetItem', 'Query', 'BatchGetItem'].reduce((sum, op) => sum + (proxy.requests.get(op) ?? 0), 0)
const faults = () => [...proxy.faults.values()].reduce((sum, count) => sum + count, 0)

async function phase(label: string, rates: FaultRates | undefined) {
  proxy.setRates(rates)
  proxy.resetCounts()
  const ids: string[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (next < TASKS) {
        const n = next++
        for (;;) {
          const answer = await p.submit(`/domains/bench-${label}-${n}.com/ds/sync`, {
            method: 'POST',
            headers: { 'idempotency-key': `bench-${label}-${n}` },
          })
          if (answer.status === 202) {
            ids.push(answer.id)
            break
          }
          if (answer.status !== 409 && answer.status !== 503)
            throw new Error(`${answer.status} ${JSON.stringify(answer.body)}`)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    }),
  )
  const submission = { requests: total(), reads: reads(), faults: faults() }
  proxy.resetCounts()
  await p.drainUntil(
    async () => {
      const tasks = await Promise.all(ids.map((id) => p.task(id)))
      return tasks.every((task) => isTerminal(task.status) && task.callback.state === 'delivered')
    },
    { timeoutMs: 300_000 },
  )
  const drain = { requests: total(), reads: reads(), faults: faults() }
  proxy.setRates(undefined)
  return { submission, drain }
}

const baseline = await phase('calm', undefined)
const faulty = await phase('faults', FAULTS)
await p.closeAll()
await proxy.close()
await db.close()

header(`Store requests per task, ${TASKS} keyed DS syncs, without and with lost answers`)
const per = (count: number) => count / TASKS
table([
  ['', 'no faults', 'faults', 'ratio'],
  [
    'requests per submission (API)',
    fmt(per(baseline.submission.requests)),
    fmt(per(faulty.submission.requests)),
    `${fmt(faulty.submission.requests / baseline.submission.requests, 2)}×`,
  ],
  [
    '… of which reads',
    fmt(per(baseline.submission.reads)),
    fmt(per(faulty.submission.reads)),
    `${fmt(faulty.submission.reads / baseline.submission.reads, 2)}×`,
  ],
  [
    'requests per drained task (poller)',
    fmt(per(baseline.drain.requests)),
    fmt(per(faulty.drain.requests)),
    `${fmt(faulty.drain.requests / baseline.drain.requests, 2)}×`,
  ],
  [
    '… of which reads',
    fmt(per(baseline.drain.reads)),
    fmt(per(faulty.drain.reads)),
    `${fmt(faulty.drain.reads / baseline.drain.reads, 2)}×`,
  ],
  [
    'faults the store made (submission + drain)',
    String(baseline.submission.faults + baseline.drain.faults),
    String(faulty.submission.faults + faulty.drain.faults),
    '',
  ],
])
process.exit(0)
