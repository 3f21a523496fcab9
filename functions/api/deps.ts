import { randomBytes } from 'node:crypto'
import { cachedKeyLookup, cachedLookup } from '#shared/auth/api-key-cache.ts'
import { buildDnssecDeps, preflightDepsFor } from '#shared/composition/dnssec-deps.ts'
import { buildGraph, type Graph } from '#shared/composition/graph.ts'
import type { Settings } from '#shared/composition/settings.ts'
import { CursorCodec } from '#shared/http/cursor.ts'
import { newTaskId } from '#shared/ids.ts'
import { registryReads } from '#shared/tasks/registry-reads.ts'
import { RateLimiter } from '#shared/tenants/rate-limit.ts'
import { callbackUrlChecker, resolveWithDns } from '#shared/webhooks/callback-url.ts'
import { webhookSender } from '#shared/webhooks/webhook-sender.ts'
import type { ApiDeps } from './request/context.ts'
import { changeDepsFor } from './request/request-change-deps.ts'

/**
 * The API's dependencies, picked from the process's graph: its stores, the upstream client, keys,
 * scopes and assignments read through short caches, the registry's DS records shared by
 * concurrent reads, the pre-flight check and the DNSSEC scanner.
 */
export function apiDepsFrom(graph: Graph, overrides: Partial<ApiDeps> = {}): ApiDeps {
  const { settings, stores, now } = graph
  const upstream = overrides.upstream ?? graph.upstream
  const cached = { ttlMs: settings.api.keyCacheMs, now }
  const apiKeys = overrides.apiKeys ?? stores.apiKeys
  const keys = cachedKeyLookup((id) => apiKeys.get(id), cached)
  const tenantScopes = overrides.tenantScopes ?? stores.tenantScopes
  // A tenant without a scope is remembered as such for as long (see api-key-cache.ts).
  const scopes = cachedLookup((tenant) => tenantScopes.get(tenant), cached)
  const domainAssignments = overrides.domainAssignments ?? stores.domainAssignments
  const assignments = cachedLookup((domain) => domainAssignments.get(domain), cached)
  // Concurrent and repeated reads of one domain share one QueryDSRecord for a few seconds, never
  // past a change of the gateway's own (see registry-reads.ts).
  const registryDsRecords = registryReads(
    async (domain) => (await upstream.queryDsRecord({ domainName: domain })).records,
    overrides.targetLocks ?? stores.targetLocks,
    { ttlMs: settings.api.registryReadCacheMs, now },
  )
  const deps: Omit<ApiDeps, 'dnssec'> = {
    ...stores,
    cachedKeys: keys,
    cachedScopes: scopes,
    cachedAssignments: assignments,
    rateLimiter: new RateLimiter(stores.rateCounters, now),
    upstream,
    registryDsRecords,
    // The check reads the registry afresh: a cached set could hide a change that just finished.
    preflight: preflightDepsFor(settings, {
      registryDs: async (domain) => (await upstream.queryDsRecord({ domainName: domain })).records,
      now,
    }),
    metrics: graph.metrics,
    now,
    newTaskId,
    randomBytes,
    logger: graph.logger,
    settings: settings.submit,
    changeRecheckMs: settings.changeRecheckMs,
    api: settings.api,
    // Keyed from a secret the gateway already holds; rotating it only invalidates open cursors.
    cursors: CursorCodec.fromSecret(settings.upstream.credentials.accessKeySecret),
    checkCallbackUrl: callbackUrlChecker(settings.callbacks, resolveWithDns),
    // Test events are rare: the agent is made at the first one (see webhook-sender.ts).
    sendWebhook: webhookSender(settings.callbacks, now),
    ...overrides,
  }
  return {
    ...deps,
    // The scanner works with the API's own (possibly overridden) stores and client.
    dnssec:
      overrides.dnssec ??
      ((logger) => buildDnssecDeps(changeDepsFor(deps, logger), deps.dnssecStates, settings)),
  }
}

/** The API's dependencies on a graph of their own (tests, benches, the offline app). */
export function buildApiDeps(settings: Settings, overrides: Partial<ApiDeps> = {}): ApiDeps {
  const { now, metrics, logger } = overrides
  return apiDepsFrom(buildGraph(settings, { now, metrics, logger }), overrides)
}
