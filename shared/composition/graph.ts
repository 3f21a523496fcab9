import { DomainApiClient } from '../aliyun/domain-api-client.ts'
import { buildChangeDeps } from '../changes/change-deps.ts'
import type { ChangeDeps } from '../changes/change-request.ts'
import { createLogger, type Logger } from '../logger.ts'
import { type Metrics, metricsFor } from '../metrics.ts'
import type { ShardQueue } from '../poller/shard-work.ts'
import { createStores } from '../store/stores.ts'
import { limiterFor } from './limiter-for.ts'
import type { Settings } from './settings.ts'

/** Every store of the table, sharing one DynamoDB client. */
export type Stores = ReturnType<typeof createStores>

/**
 * The gateway's parts, built once per process from the settings: the table's stores (one DynamoDB
 * client), the signed upstream client under the account's shared rate, the metrics, the root
 * logger and the clock. Each program picks what it needs (functions/\*\/deps.ts); `npm start`
 * builds one graph for the API, the poller, the syncs and the drift check together.
 */
export interface Graph {
  readonly settings: Settings
  readonly stores: Stores
  readonly upstream: DomainApiClient
  /** CloudWatch EMF lines when METRICS=on; otherwise counted nowhere. */
  readonly metrics: Metrics
  /** Whether metrics go anywhere (a poller run measures its backlog only then). */
  readonly metricsOn: boolean
  readonly logger: Logger
  readonly now: () => number
  /** The change path (desired state, steps, their settling) with this part's logger. */
  changeDeps(logger: Logger): ChangeDeps
}

/** What a test or a benchmark may put in place of a part the graph would build. */
export interface GraphParts {
  readonly now?: () => number
  readonly metrics?: Metrics
  readonly logger?: Logger
  readonly upstream?: DomainApiClient
}

export function buildGraph(settings: Settings, parts: GraphParts = {}): Graph {
  const metrics = parts.metrics ?? metricsFor(settings.metrics)
  const stores = createStores(settings.store, metrics)
  const now = parts.now ?? Date.now
  const upstream =
    parts.upstream ??
    new DomainApiClient({
      config: settings.upstream,
      metrics,
      limiter: limiterFor(settings.upstream, stores.buckets),
    })
  return {
    settings,
    stores,
    upstream,
    metrics,
    metricsOn: parts.metrics !== undefined || settings.metrics !== undefined,
    logger: parts.logger ?? createLogger({ level: settings.logLevel }),
    now,
    changeDeps: (logger) =>
      buildChangeDeps({
        stores,
        upstream,
        now,
        logger,
        settings: settings.submit,
        changeRecheckMs: settings.changeRecheckMs,
      }),
  }
}

/**
 * Where a scheduled run's parts go: the SQS queue POLLER_QUEUE_URL names, or none (the run drains
 * every shard in its own process). The SQS client is loaded only when there is a queue.
 */
export async function shardQueueFor(
  settings: Pick<Settings, 'fanOut'>,
): Promise<ShardQueue | undefined> {
  if (!settings.fanOut.queueUrl) return undefined
  const { SqsShardQueue } = await import('../store/sqs-shard-queue.ts')
  return new SqsShardQueue(settings.fanOut.queueUrl)
}
