import { buildApiDeps } from '#functions/api/deps.ts'
import type { GatewayConfig, WorkerConfig } from '#shared/config.ts'
import type { SyncDeps } from '#shared/sync/run-scheduled-sync.ts'

/** The submission path of the API, reused for scheduled syncs. */
export function buildSyncDeps(
  gateway: GatewayConfig,
  worker: WorkerConfig,
  overrides: Partial<SyncDeps> = {},
): SyncDeps {
  const api = buildApiDeps(gateway, worker)
  return {
    tasks: api.tasks,
    taskNos: api.taskNos,
    upstream: api.upstream,
    targetLocks: api.targetLocks,
    now: api.now,
    newTaskId: api.newTaskId,
    logger: api.logger.child({ component: 'sync' }),
    settings: api.settings,
    checkCallbackUrl: api.checkCallbackUrl,
    ...overrides,
  }
}
