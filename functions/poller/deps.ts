import { randomUUID } from 'node:crypto'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { cachedKeyLookup } from '#shared/auth/api-key-cache.ts'
import { sleep } from '#shared/backoff.ts'
import { buildChangeDeps } from '#shared/changes/change-deps.ts'
import { publicationDepsFor } from '#shared/composition/dnssec-deps.ts'
import type { GatewayConfig } from '#shared/composition/gateway-env.ts'
import { submitSettingsFrom } from '#shared/composition/submit-settings.ts'
import type { WorkerConfig } from '#shared/composition/worker-env.ts'
import { createLogger } from '#shared/logger.ts'
import { metricsFor } from '#shared/metrics.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import { DEFAULT_POLLER_SETTINGS } from '#shared/poller/settings.ts'
import type { ShardQueue } from '#shared/poller/shard-work.ts'
import { DEFAULT_DUE_SWEEP_SETTINGS, sweepDueIndex } from '#shared/poller/sweep-due-index.ts'
import { UpstreamListing } from '#shared/poller/upstream-listing.ts'
import { createStores } from '#shared/store/stores.ts'
import { limiterFor } from '#shared/upstream-rate/limiter-for.ts'
import { DEFAULT_ENDPOINT_HEALTH_SETTINGS } from '#shared/webhooks/endpoint-health.ts'
import { createSecretResolver } from '#shared/webhooks/webhook-secrets.ts'
import { webhookSender } from '#shared/webhooks/webhook-sender.ts'

/**
 * Where a scheduled run's parts go: the SQS queue POLLER_QUEUE_URL names, or none (the run drains
 * every shard in its own process). The SQS client is loaded only when there is a queue.
 */
export async function buildShardQueue(worker: WorkerConfig): Promise<ShardQueue | undefined> {
  if (!worker.poller.queueUrl) return undefined
  const { SqsShardQueue } = await import('#shared/store/sqs-shard-queue.ts')
  return new SqsShardQueue(worker.poller.queueUrl)
}

/** The production wiring of the poller: DynamoDB stores, the upstream client, guarded webhooks. */
export function buildPollerDeps(
  gateway: GatewayConfig,
  worker: WorkerConfig,
  overrides: Partial<PollerDeps> = {},
): PollerDeps {
  // Only when on: a run measures the due backlog (a query per shard) just to report it.
  const metrics = overrides.metrics ?? (gateway.metrics ? metricsFor(gateway.metrics) : undefined)
  const stores = createStores(gateway.store, metrics)
  const now = overrides.now ?? Date.now
  const owner = `poller-${randomUUID()}`
  const logger = createLogger({ level: gateway.logLevel }).child({ component: 'poller' })
  const upstream = new DomainApiClient({
    config: gateway.upstream,
    metrics,
    limiter: limiterFor(gateway.upstream, stores.buckets),
  })
  const changes = buildChangeDeps({
    stores,
    upstream,
    now,
    logger,
    settings: submitSettingsFrom(gateway, worker),
    changeRecheckMs: worker.poller.changeRecheckMs,
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
    publications: publicationDepsFor(worker, {
      watches: stores.publications,
      tasks: stores.tasks,
      changes: stores.changes,
      events: stores.events,
      eventSequence: stores.eventSequence,
      now,
      logger,
      metrics,
      retentionMs: gateway.store.taskRetentionMs,
    }),
    // Every delivery signs with its key's secrets: read once per key per few seconds, not per call.
    secretsFor: createSecretResolver(
      cachedKeyLookup((id) => stores.apiKeys.get(id), { ttlMs: gateway.api.keyCacheMs, now }).get,
      now,
      worker.sync.webhookSecret,
    ),
    sendWebhook: webhookSender(worker.callbacks, now),
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
        settings: {
          ...DEFAULT_DUE_SWEEP_SETTINGS,
          owner,
          intervalMs: worker.poller.dueSweepIntervalMs,
          staleAfterMs: worker.poller.dueSweepStaleMs,
        },
      }),
    settings: {
      ...DEFAULT_POLLER_SETTINGS,
      owner,
      leaseMs: worker.poller.leaseMs,
      pollDelaysMs: worker.poller.pollDelaysMs,
      maxTaskAgeMs: worker.poller.maxTaskAgeMs,
      // An upstream task is adopted once a live submission that made it has had time to record
      // it; a younger one only postpones the verdict (see reconcile.ts).
      candidateSettleMs: gateway.upstream.timeoutMs + 30_000,
      sendWindowMs: gateway.submit.sendWindowMs,
      timestampWindowMs: gateway.upstream.timestampWindowMs,
      maxClockSkewMs: gateway.upstream.maxClockSkewMs,
      absenceMarginMs: worker.poller.absenceMarginMs,
      callbackRetryDelaysMs: worker.callbacks.retryDelaysMs,
      callbackJitter: worker.callbacks.jitter,
      callbackTimeoutMs: worker.callbacks.timeoutMs,
      callbackConcurrency: worker.callbacks.concurrency,
      callbackPerEndpoint: worker.callbacks.perEndpoint,
      callbackPerTenant: worker.callbacks.perTenant,
      endpointHealth: {
        ...DEFAULT_ENDPOINT_HEALTH_SETTINGS,
        disableAfterMs: worker.callbacks.disableAfterMs,
      },
      taskRetentionMs: gateway.store.taskRetentionMs,
      concurrency: worker.poller.concurrency,
    },
    ...overrides,
  }
}
