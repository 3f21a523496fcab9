import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { buildChangeDeps } from '#shared/changes/change-deps.ts'
import type { ChangeDeps } from '#shared/changes/change-request.ts'
import type { Settings } from '#shared/composition/settings.ts'
import { createLogger } from '#shared/logger.ts'
import { createStores } from '#shared/store/stores.ts'
import { limiterFor } from '#shared/upstream-rate/limiter-for.ts'

/** The production wiring of the drift check: the stores, the upstream client, the change path. */
export function buildDriftDeps(
  settings: Settings,
  overrides: Partial<ChangeDeps> = {},
): ChangeDeps {
  const stores = createStores(settings.store)
  return {
    ...buildChangeDeps({
      stores,
      upstream: new DomainApiClient({
        config: settings.upstream,
        limiter: limiterFor(settings.upstream, stores.buckets),
      }),
      now: Date.now,
      logger: createLogger({ level: settings.logLevel }).child({ component: 'drift' }),
      settings: settings.submit,
      changeRecheckMs: settings.changeRecheckMs,
    }),
    ...overrides,
  }
}
