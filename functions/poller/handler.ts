import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda'
import { shardQueueFor } from '#shared/composition/graph.ts'
import { lambdaGraph } from '#shared/composition/lambda-environment.ts'
import { dispatchPollerRun } from '#shared/poller/dispatch-run.ts'
import { InProcessShardQueue } from '#shared/poller/in-process-shard-queue.ts'
import { workShardMessage } from '#shared/poller/shard-worker.ts'
import { beginInvocation } from '../invocation.ts'
import { pollerDepsFrom } from './deps.ts'

const graph = await lambdaGraph()
const deps = pollerDepsFrom(graph)
const queue = await shardQueueFor(graph.settings)
/** Leave room to write the last results before Lambda stops the invocation. */
const SAFETY_MARGIN_MS = 5_000
/** A run never outlasts the one-minute schedule by much; overlapping runs are safe anyway. */
const MAX_RUN_MS = 55_000

type Invocation = Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>

function budgetOf(context: Invocation) {
  const remaining = context.getRemainingTimeInMillis()
  const now = deps.now()
  return {
    runMs: Math.max(0, Math.min(MAX_RUN_MS, remaining - SAFETY_MARGIN_MS)),
    // Callbacks are sent only if they can finish before Lambda stops the invocation.
    hardStop: now + remaining - 1_000,
    now,
  }
}

/**
 * EventBridge `rate(1 minute)` entry point. With POLLER_QUEUE_URL it hands the due index's
 * shards to the queue, one part per worker (`worker` below drains them); without, it drains
 * every shard itself until the time budget is spent.
 */
export async function handler(_event: unknown, context: Invocation) {
  beginInvocation(context)
  const { runMs, hardStop } = budgetOf(context)
  const inProcess = new InProcessShardQueue(deps, hardStop)
  const { parts } = await dispatchPollerRun(deps, queue ?? inProcess, {
    workers: graph.settings.fanOut.workers,
    runMs,
  })
  const runs = queue ? [] : inProcess.lastRuns
  if (queue) deps.logger.info('poller run handed to the workers', { parts })
  for (const stats of runs) deps.logger.info('poller run finished', { ...stats })
  deps.metrics?.flush()
  return { parts, runs }
}

/**
 * SQS entry point (batch size 1): drains the shards one queued part names. A part is never
 * reported failed — a part redelivered after its run would only be dropped — so the queue never
 * holds one back.
 */
export async function worker(event: SQSEvent, context: Invocation): Promise<SQSBatchResponse> {
  beginInvocation(context)
  for (const record of event.Records) {
    const { runMs, hardStop, now } = budgetOf(context)
    const outcome = await workShardMessage(deps, record.body, { deadline: now + runMs, hardStop })
    if (outcome.ran) {
      deps.logger.info('poller run finished', { shards: outcome.shards, ...outcome.stats })
    }
  }
  deps.metrics?.flush()
  return { batchItemFailures: [] }
}
