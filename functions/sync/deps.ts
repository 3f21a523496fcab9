import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import type { GatewayConfig } from '#shared/composition/gateway-env.ts'
import { submitSettingsFrom } from '#shared/composition/submit-settings.ts'
import type { WorkerConfig } from '#shared/composition/worker-env.ts'
import { newTaskId } from '#shared/ids.ts'
import { createLogger } from '#shared/logger.ts'
import { metricsFor } from '#shared/metrics.ts'
import { createStores } from '#shared/store/stores.ts'
import type { SyncDeps } from '#shared/sync/run-scheduled-sync.ts'
import { limiterFor } from '#shared/upstream-rate/limiter-for.ts'
import { callbackUrlChecker, resolveWithDns } from '#shared/webhooks/callback-url.ts'

/** Scheduled syncs submit as the API does: the same stores, client, settings and URL check. */
export function buildSyncDeps(
  gateway: GatewayConfig,
  worker: WorkerConfig,
  overrides: Partial<SyncDeps> = {},
): SyncDeps {
  const stores = createStores(gateway.store)
  return {
    tasks: stores.tasks,
    taskNos: stores.taskNos,
    targetLocks: stores.targetLocks,
    upstream: new DomainApiClient({
      config: gateway.upstream,
      metrics: metricsFor(gateway.metrics),
      limiter: limiterFor(gateway.upstream, stores.buckets),
    }),
    now: Date.now,
    newTaskId,
    logger: createLogger({ level: gateway.logLevel }).child({ component: 'sync' }),
    settings: submitSettingsFrom(gateway, worker),
    checkCallbackUrl: callbackUrlChecker(worker.callbacks, resolveWithDns),
    ...overrides,
  }
}
