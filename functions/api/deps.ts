import { randomBytes } from 'node:crypto'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { cachedKeyLookup, cachedLookup } from '#shared/auth/api-key-cache.ts'
import { buildDnssecDeps, preflightDepsFor } from '#shared/composition/dnssec-deps.ts'
import type { Settings } from '#shared/composition/settings.ts'
import { CursorCodec } from '#shared/http/cursor.ts'
import { newTaskId } from '#shared/ids.ts'
import { createLogger } from '#shared/logger.ts'
import { metricsFor } from '#shared/metrics.ts'
import { createStores } from '#shared/store/stores.ts'
import { registryReads } from '#shared/tasks/registry-reads.ts'
import { RateLimiter } from '#shared/tenants/rate-limit.ts'
import { limiterFor } from '#shared/upstream-rate/limiter-for.ts'
import { callbackUrlChecker, resolveWithDns } from '#shared/webhooks/callback-url.ts'
import { webhookSender } from '#shared/webhooks/webhook-sender.ts'
import type { ApiDeps } from './context.ts'
import { changeDepsFor } from './request-change-deps.ts'

/** The production wiring of the API: DynamoDB stores, the signed upstream client, real clock. */
export function buildApiDeps(settings: Settings, overrides: Partial<ApiDeps> = {}): ApiDeps {
  const metrics = overrides.metrics ?? metricsFor(settings.metrics)
  const stores = createStores(settings.store, metrics)
  const apiKeys = overrides.apiKeys ?? stores.apiKeys
  const keys = cachedKeyLookup((id) => apiKeys.get(id), {
    ttlMs: settings.api.keyCacheMs,
    now: overrides.now ?? Date.now,
  })
  const tenantScopes = overrides.tenantScopes ?? stores.tenantScopes
  // A tenant without a scope is remembered as such for as long (see api-key-cache.ts).
  const scopes = cachedLookup((tenant) => tenantScopes.get(tenant), {
    ttlMs: settings.api.keyCacheMs,
    now: overrides.now ?? Date.now,
  })
  const domainAssignments = overrides.domainAssignments ?? stores.domainAssignments
  const assignments = cachedLookup((domain) => domainAssignments.get(domain), {
    ttlMs: settings.api.keyCacheMs,
    now: overrides.now ?? Date.now,
  })
  const upstream =
    overrides.upstream ??
    new DomainApiClient({
      config: settings.upstream,
      metrics,
      limiter: limiterFor(settings.upstream, stores.buckets),
    })
  // Concurrent and repeated reads of one domain share one QueryDSRecord for a few seconds, never
  // past a change of the gateway's own (see registry-reads.ts).
  const registryDsRecords = registryReads(
    async (domain) => (await upstream.queryDsRecord({ domainName: domain })).records,
    overrides.targetLocks ?? stores.targetLocks,
    { ttlMs: settings.api.registryReadCacheMs, now: overrides.now ?? Date.now },
  )
  const deps: ApiDeps = {
    ...stores,
    keyLookup: keys.get,
    forgetKey: keys.forget,
    scopeLookup: scopes.get,
    forgetScope: scopes.forget,
    assignmentLookup: assignments.get,
    rateLimiter: new RateLimiter(stores.rateCounters, overrides.now ?? Date.now),
    forgetAssignment: assignments.forget,
    upstream,
    registryDsRecords,
    // The check reads the registry afresh: a cached set could hide a change that just finished.
    preflight: preflightDepsFor(settings, {
      registryDs: async (domain) => (await upstream.queryDsRecord({ domainName: domain })).records,
      now: overrides.now ?? Date.now,
    }),
    metrics,
    now: Date.now,
    newTaskId,
    randomBytes,
    logger: createLogger({ level: settings.logLevel }),
    settings: settings.submit,
    changeRecheckMs: settings.changeRecheckMs,
    api: settings.api,
    // Keyed from a secret the gateway already holds; rotating it only invalidates open cursors.
    cursors: CursorCodec.fromSecret(settings.upstream.credentials.accessKeySecret),
    checkCallbackUrl: callbackUrlChecker(settings.callbacks, resolveWithDns),
    // Test events are rare: the agent is made at the first one (see webhook-sender.ts).
    sendWebhook: webhookSender(settings.callbacks, overrides.now ?? Date.now),
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
