import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import type { Settings } from '#shared/composition/settings.ts'
import { newTaskId } from '#shared/ids.ts'
import { createLogger } from '#shared/logger.ts'
import { metricsFor } from '#shared/metrics.ts'
import { createStores } from '#shared/store/stores.ts'
import type { SyncDeps } from '#shared/sync/run-scheduled-sync.ts'
import { limiterFor } from '#shared/upstream-rate/limiter-for.ts'
import { callbackUrlChecker, resolveWithDns } from '#shared/webhooks/callback-url.ts'

/** Scheduled syncs submit as the API does: the same stores, client, settings and URL check. */
export function buildSyncDeps(settings: Settings, overrides: Partial<SyncDeps> = {}): SyncDeps {
  const stores = createStores(settings.store)
  return {
    tasks: stores.tasks,
    taskNos: stores.taskNos,
    targetLocks: stores.targetLocks,
    upstream: new DomainApiClient({
      config: settings.upstream,
      metrics: metricsFor(settings.metrics),
      limiter: limiterFor(settings.upstream, stores.buckets),
    }),
    now: Date.now,
    newTaskId,
    logger: createLogger({ level: settings.logLevel }).child({ component: 'sync' }),
    settings: settings.submit,
    checkCallbackUrl: callbackUrlChecker(settings.callbacks, resolveWithDns),
    ...overrides,
  }
}
