import { runPoller } from '#shared/poller/run-poller.ts'
import { startPipeline } from '../test/helpers/pipeline.ts'
import { fmt, header, median, percentile, table } from './lib.ts'

/**
 * The per-domain queue: N submissions for one domain at once are sent one after another; what a
 * handoff costs is the gap between the registry finishing one task and receiving the next. The
 * baseline, measured in the same run, is the same N submissions for N different domains (no
 * queue): the gap there is the pipeline's own latency from acceptance to the upstream call.
 */
const N = Number(process.env.BENCH_QUEUE_SIZE ?? 30)
const TASK_MS = 40

const p = await startPipeline({ emulatorTaskMs: TASK_MS })
let running = true
const poller = (async () => {
  const deps = p.pollerDeps({}, { pollDelaysMs: [10], idleWaitMs: 5 })
  while (running) await runPoller(deps, Date.now() + 200)
})()

async function submitAll(domainOf: (i: number) => string) {
  const started = Date.now()
  const ids: string[] = []
  for (let i = 0; i < N; i++) {
    const answer = await p.submit(`/domains/${domainOf(i)}/ds/sync`)
    ids.push(answer.id)
  }
  const accepted = Date.now()
  for (;;) {
    const tasks = await Promise.all(ids.map((id) => p.task(id)))
    if (tasks.every((task) => task.status === 'succeeded')) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { started, accepted, finished: Date.now(), ids }
}

const upstreamCreated = (domains: ReadonlySet<string>) =>
  [...p.emulator.account.tasks.values()]
    .filter((task) => 'domain' in task.kind && domains.has(task.kind.domain))
    .map((task) => task.createdAt)
    .sort((a, b) => a - b)

const spread = await submitAll((i) => `spread-${i}.com`)
const spreadCreated = upstreamCreated(
  new Set(Array.from({ length: N }, (_, i) => `spread-${i}.com`)),
)
const queued = await submitAll(() => 'one-domain.com')
const oneCreated = upstreamCreated(new Set(['one-domain.com']))
running = false
await poller

// Handoff: from the registry finishing task i (created + TASK_MS) to receiving task i + 1.
const handoffs = oneCreated.slice(1).map((at, i) => at - ((oneCreated[i] as number) + TASK_MS))
// Baseline: from the registry finishing a task to the gateway recording it final (no queue).
const completionLags = await Promise.all(
  spread.ids.map(async (id) => {
    const task = await p.task(id)
    const upstream = p.emulator.account.tasks.get(task.upstream.taskNo as string)
    return Date.parse(task.completedAt as string) - ((upstream?.createdAt as number) + TASK_MS)
  }),
)
void spreadCreated

header(`Per-domain queue: ${N} submissions for one domain (emulator task time ${TASK_MS} ms)`)
table([
  ['figure', 'value'],
  ['one domain: all done after', `${queued.finished - queued.started} ms`],
  ['one domain: ideal (N × task time)', `${N * TASK_MS} ms`],
  [
    'handoff gap p50 / p95 (registry done → next task received)',
    `${fmt(median(handoffs))} / ${fmt(percentile(handoffs, 95))} ms`,
  ],
  ['baseline: N domains, all done after', `${spread.finished - spread.started} ms`],
  [
    'baseline: registry done → task recorded final, p50 / p95',
    `${fmt(median(completionLags))} / ${fmt(percentile(completionLags, 95))} ms`,
  ],
  [
    'handoff p50 ÷ baseline p50',
    `${fmt(median(handoffs) / Math.max(1, median(completionLags)), 2)}×`,
  ],
  ['upstream tasks for the one domain (must be N)', `${oneCreated.length}`],
])
await p.closeAll()
process.exit(0)
