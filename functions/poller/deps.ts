import { randomUUID } from 'node:crypto'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { sleep } from '#shared/backoff.ts'
import type { GatewayConfig, WorkerConfig } from '#shared/config.ts'
import { createLogger } from '#shared/logger.ts'
import type { PollerDeps } from '#shared/poller/process-task.ts'
import { DEFAULT_POLLER_SETTINGS } from '#shared/poller/settings.ts'
import { createStores } from '#shared/store/stores.ts'
import { DEFAULT_SUBMIT_SETTINGS } from '#shared/tasks/submit-task.ts'
import { addressPolicy } from '#shared/webhooks/address-policy.ts'
import { createGuardedAgent } from '#shared/webhooks/guarded-agent.ts'
import { sendWebhook } from '#shared/webhooks/send-webhook.ts'
import { createSecretResolver } from '#shared/webhooks/webhook-secrets.ts'

/**
 * A submission cannot be called absent upstream before the request that made it has certainly
 * ended: it starts at most `maxIntentWriteMs` after the intent and lasts at most the upstream
 * timeout — counted twice, plus a minute for clock skew and a slow service.
 */
export const minimumAbsenceWindowMs = (upstreamTimeoutMs: number): number =>
  DEFAULT_SUBMIT_SETTINGS.maxIntentWriteMs + 2 * upstreamTimeoutMs + 60_000

/** The production wiring of the poller: DynamoDB stores, the upstream client, guarded webhooks. */
export function buildPollerDeps(
  gateway: GatewayConfig,
  worker: WorkerConfig,
  overrides: Partial<PollerDeps> = {},
): PollerDeps {
  const stores = createStores(gateway.store)
  const now = overrides.now ?? Date.now
  const dispatcher = createGuardedAgent(addressPolicy(worker.callbacks))
  return {
    tasks: stores.tasks,
    taskNos: stores.taskNos,
    deliveries: stores.deliveries,
    upstream: new DomainApiClient({ config: gateway.upstream }),
    secretsFor: createSecretResolver(stores.apiKeys, now, worker.sync.webhookSecret),
    sendWebhook: (message) =>
      sendWebhook(message, { dispatcher, timeoutMs: worker.callbacks.timeoutMs, now }),
    now,
    random: Math.random,
    sleep,
    logger: createLogger({ level: gateway.logLevel }).child({ component: 'poller' }),
    settings: {
      ...DEFAULT_POLLER_SETTINGS,
      owner: `poller-${randomUUID()}`,
      leaseMs: worker.poller.leaseMs,
      pollDelaysMs: worker.poller.pollDelaysMs,
      maxTaskAgeMs: worker.poller.maxTaskAgeMs,
      // Absence is only proven once any submission that could still be in flight has ended.
      candidateSettleMs: gateway.upstream.timeoutMs + 30_000,
      reconcileAbsentAfterMs: Math.max(
        worker.poller.reconcileAbsentAfterMs,
        minimumAbsenceWindowMs(gateway.upstream.timeoutMs),
      ),
      callbackRetryDelaysMs: worker.callbacks.retryDelaysMs,
      callbackJitter: worker.callbacks.jitter,
      callbackTimeoutMs: worker.callbacks.timeoutMs,
      taskRetentionMs: gateway.store.taskRetentionMs,
      concurrency: worker.poller.concurrency,
    },
    ...overrides,
  }
}
