import { randomUUID } from 'node:crypto'
import { cachedKeyLookup } from '#shared/auth/api-key-cache.ts'
import { sleep } from '#shared/backoff.ts'
import { publicationDepsFor } from '#shared/composition/dnssec-deps.ts'
import { buildGraph, type Graph } from '#shared/composition/graph.ts'
import type { Settings } from '#shared/composition/settings.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import { sweepDueIndex } from '#shared/poller/sweep-due-index.ts'
import { UpstreamListing } from '#shared/tasks/upstream-listing.ts'
import { createSecretResolver } from '#shared/webhooks/webhook-secrets.ts'
import { webhookSender } from '#shared/webhooks/webhook-sender.ts'

/**
 * The poller's dependencies, picked from the process's graph: the stores, the upstream client and
 * its listing, the change path (queued tasks are sent in their turn exactly as the API sends),
 * publication following, and callbacks signed with each key's secrets through the guarded agent.
 */
export function pollerDepsFrom(graph: Graph, overrides: Partial<PollerDeps> = {}): PollerDeps {
  const { settings, stores, upstream } = graph
  const now = overrides.now ?? graph.now
  // Only when on: a run measures the due backlog (a query per shard) just to report it.
  const metrics = overrides.metrics ?? (graph.metricsOn ? graph.metrics : undefined)
  const owner = `poller-${randomUUID()}`
  const logger = overrides.logger ?? graph.logger.child({ component: 'poller' })
  const changes = graph.changeDeps(logger)
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

/** The poller's dependencies on a graph of their own (tests, benches). */
export function buildPollerDeps(
  settings: Settings,
  overrides: Partial<PollerDeps> = {},
): PollerDeps {
  const { now, metrics, logger } = overrides
  return pollerDepsFrom(buildGraph(settings, { now, metrics, logger }), overrides)
}
