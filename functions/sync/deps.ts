import { buildGraph, type Graph } from '#shared/composition/graph.ts'
import type { Settings } from '#shared/composition/settings.ts'
import { newTaskId } from '#shared/ids.ts'
import type { SyncDeps } from '#shared/sync/run-scheduled-sync.ts'
import { callbackUrlChecker, resolveWithDns } from '#shared/webhooks/callback-url.ts'

/** Scheduled syncs submit as the API does: the same stores, client, settings and URL check. */
export function syncDepsFrom(graph: Graph, overrides: Partial<SyncDeps> = {}): SyncDeps {
  const { settings, stores } = graph
  return {
    tasks: stores.tasks,
    taskNos: stores.taskNos,
    targetLocks: stores.targetLocks,
    upstream: graph.upstream,
    now: graph.now,
    newTaskId,
    logger: graph.logger.child({ component: 'sync' }),
    settings: settings.submit,
    checkCallbackUrl: callbackUrlChecker(settings.callbacks, resolveWithDns),
    ...overrides,
  }
}

/** The syncs' dependencies on a graph of their own (tests). */
export function buildSyncDeps(settings: Settings, overrides: Partial<SyncDeps> = {}): SyncDeps {
  const { now, logger } = overrides
  return syncDepsFrom(buildGraph(settings, { now, logger }), overrides)
}
