import { randomUUID } from 'node:crypto'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { cachedKeyLookup } from '#shared/auth/api-key-cache.ts'
import { sleep } from '#shared/backoff.ts'
import { buildChangeDeps } from '#shared/changes/change-deps.ts'
import { publicationDepsFor } from '#shared/composition/dnssec-deps.ts'
import type { Settings } from '#shared/composition/settings.ts'
import { createLogger } from '#shared/logger.ts'
import { metricsFor } from '#shared/metrics.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import type { ShardQueue } from '#shared/poller/shard-work.ts'
import { sweepDueIndex } from '#shared/poller/sweep-due-index.ts'
import { UpstreamListing } from '#shared/poller/upstream-listing.ts'
import { createStores } from '#shared/store/stores.ts'
import { limiterFor } from '#shared/upstream-rate/limiter-for.ts'
import { createSecretResolver } from '#shared/webhooks/webhook-secrets.ts'
import { webhookSender } from '#shared/webhooks/webhook-sender.ts'

/**
 * Where a scheduled run's parts go: the SQS queue POLLER_QUEUE_URL names, or none (the run drains
 * every shard in its own process). The SQS client is loaded only when there is a queue.
 */
export async function buildShardQueue(
  settings: Pick<Settings, 'fanOut'>,
): Promise<ShardQueue | undefined> {
  if (!settings.fanOut.queueUrl) return undefined
  const { SqsShardQueue } = await import('#shared/store/sqs-shard-queue.ts')
  return new SqsShardQueue(settings.fanOut.queueUrl)
}

/** The production wiring of the poller: DynamoDB stores, the upstream client, guarded webhooks. */
export function buildPollerDeps(
  settings: Settings,
  overrides: Partial<PollerDeps> = {},
): PollerDeps {
  // Only when on: a run measures the due backlog (a query per shard) just to report it.
  const metrics = overrides.metrics ?? (settings.metrics ? metricsFor(settings.metrics) : undefined)
  const stores = createStores(settings.store, metrics)
  const now = overrides.now ?? Date.now
  const owner = `poller-${randomUUID()}`
  const logger = createLogger({ level: settings.logLevel }).child({ component: 'poller' })
  const upstream = new DomainApiClient({
    config: settings.upstream,
    metrics,
    limiter: limiterFor(settings.upstream, stores.buckets),
  })
  const changes = buildChangeDeps({
    stores,
    upstream,
    now,
    logger,
    settings: settings.submit,
    changeRecheckMs: settings.changeRecheckMs,
  })
  return {
    tasks: stores.tasks,
    taskNos: stores.taskNos,
    deliveries: stores.deliveries,
    endpoints: stores.endpoints,
    targetLocks: stores.targetLocks,
    upstream,
    listing: new UpstreamListing(),
    // Queued tasks are sent in their turn exactly as the API sends; changes are settled here.
    send: changes,
    changes,
    events: stores.events,
    publications: publicationDepsFor(settings, {
      watches: stores.publications,
      tasks: stores.tasks,
      changes: stores.changes,
      events: stores.events,
      eventSequence: stores.eventSequence,
      now,
      logger,
      metrics,
      retentionMs: settings.store.taskRetentionMs,
    }),
    // Every delivery signs with its key's secrets: read once per key per few seconds, not per call.
    secretsFor: createSecretResolver(
      cachedKeyLookup((id) => stores.apiKeys.get(id), { ttlMs: settings.api.keyCacheMs, now }).get,
      now,
      settings.sync.webhookSecret,
    ),
    sendWebhook: webhookSender(settings.callbacks, now),
    now,
    metrics,
    random: Math.random,
    sleep,
    logger,
    sweepDueIndex: () =>
      sweepDueIndex({
        store: stores.dueSweep,
        now,
        logger,
        settings: { ...settings.dueSweep, owner },
      }),
    settings: { ...settings.poller, owner },
    ...overrides,
  }
}
