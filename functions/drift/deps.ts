import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { buildChangeDeps } from '#shared/changes/change-deps.ts'
import type { ChangeDeps } from '#shared/changes/change-request.ts'
import type { GatewayConfig } from '#shared/composition/gateway-env.ts'
import { submitSettingsFrom } from '#shared/composition/submit-settings.ts'
import type { WorkerConfig } from '#shared/composition/worker-env.ts'
import { createLogger } from '#shared/logger.ts'
import { createStores } from '#shared/store/stores.ts'
import { limiterFor } from '#shared/upstream-rate/limiter-for.ts'

/** The production wiring of the drift check: the stores, the upstream client, the change path. */
export function buildDriftDeps(
  gateway: GatewayConfig,
  worker: WorkerConfig,
  overrides: Partial<ChangeDeps> = {},
): ChangeDeps {
  const stores = createStores(gateway.store)
  return {
    ...buildChangeDeps({
      stores,
      upstream: new DomainApiClient({
        config: gateway.upstream,
        limiter: limiterFor(gateway.upstream, stores.buckets),
      }),
      now: Date.now,
      logger: createLogger({ level: gateway.logLevel }).child({ component: 'drift' }),
      settings: submitSettingsFrom(gateway, worker),
      changeRecheckMs: worker.poller.changeRecheckMs,
    }),
    ...overrides,
  }
}
