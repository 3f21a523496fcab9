import type { OpenAPIHono } from '@hono/zod-openapi'
import type { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import type { DsRecord } from '#shared/aliyun/responses.ts'
import type { CachedLookup } from '#shared/auth/api-key-cache.ts'
import type { ApiKeyStore } from '#shared/auth/api-key-store.ts'
import type { ApiKey, RandomBytes } from '#shared/auth/api-keys.ts'
import type { Change } from '#shared/changes/change.ts'
import type { ChangeList } from '#shared/changes/change-list.ts'
import type { DomainStateStore } from '#shared/changes/domain-state.ts'
import type { Settings } from '#shared/composition/settings.ts'
import type { DnssecDeps } from '#shared/dnssec-automation/dnssec-service.ts'
import type { DnssecStateStore } from '#shared/dnssec-automation/dnssec-state.ts'
import type { EventLog } from '#shared/events/event-log.ts'
import type { EventSequence } from '#shared/events/event-sequence.ts'
import type { WebhookEvent } from '#shared/events/webhook-event.ts'
import type { CursorCodec } from '#shared/http/cursor.ts'
import type { Logger } from '#shared/logger.ts'
import type { Metrics } from '#shared/metrics.ts'
import type { DueItemStore } from '#shared/ports/due-item-store.ts'
import type { PreflightDeps } from '#shared/preflight/check-change.ts'
import type { SubmitSettings } from '#shared/tasks/submit-deps.ts'
import type { TaskSubmitter } from '#shared/tasks/submit-to-upstream.ts'
import type { TargetLockStore } from '#shared/tasks/target-locks.ts'
import type { Scope } from '#shared/tasks/task.ts'
import type { TaskNoRegistry, TaskStore } from '#shared/tasks/task-store.ts'
import type { DomainAssignment, DomainAssignmentStore } from '#shared/tenants/domain-assignment.ts'
import type { RateDecision, RateLimiter } from '#shared/tenants/rate-limit.ts'
import type { TenantScope, TenantScopeStore } from '#shared/tenants/tenant-scope.ts'
import type { DeliveryLogStore } from '#shared/webhooks/delivery-log.ts'
import type { EndpointHealthStore } from '#shared/webhooks/endpoint-health-store.ts'
import type { SendResult, WebhookMessage } from '#shared/webhooks/send-webhook.ts'

/** Everything the API needs, built once per process (see `deps.ts`) and passed in. */
export interface ApiDeps {
  readonly tasks: TaskStore
  readonly taskNos: TaskNoRegistry
  readonly apiKeys: ApiKeyStore
  /**
   * How a request's key is found (authentication only; the admin routes read the store): the
   * store behind a short cache, see `api-key-cache.ts`; a key revoked or changed here is forgotten.
   */
  readonly cachedKeys: CachedLookup<ApiKey>
  readonly deliveries: DeliveryLogStore
  readonly endpoints: EndpointHealthStore
  readonly targetLocks: TargetLockStore
  readonly changes: DueItemStore<Change>
  readonly events: DueItemStore<WebhookEvent>
  /** The tenant's events (stored events and final tasks) in the order they happened. */
  readonly eventLog: EventLog
  /** Numbers a domain's events in the order they are made. */
  readonly eventSequence: EventSequence
  /** The tenant's accepted changes, newest first. */
  readonly changeList: ChangeList
  readonly domainStates: DomainStateStore
  readonly dnssecStates: DnssecStateStore
  /** Tenants' scopes, as the admin sets them (the admin routes read and write the store). */
  readonly tenantScopes: TenantScopeStore
  /** A tenant's scope for a request: the store behind a short cache (see tenant-scope.ts). */
  readonly cachedScopes: CachedLookup<TenantScope>
  /** Domains' managing tenants and sharing, as the admin sets them (or first writes claim them). */
  readonly domainAssignments: DomainAssignmentStore
  /** A domain's assignment for a submission's check: the store behind a short cache. */
  readonly cachedAssignments: CachedLookup<DomainAssignment>
  /** Per-tenant request rates, counted in the table (see tenants/rate-limit.ts). */
  readonly rateLimiter: RateLimiter
  /** The pre-flight check of a change against what the zone's servers serve (see preflight/). */
  readonly preflight: PreflightDeps
  /** The CDS/CDNSKEY scanner with the API's stores and this request's logger. */
  readonly dnssec: (logger: Logger) => DnssecDeps
  /** How often a running change looks at its steps when nothing wakes it sooner. */
  readonly changeRecheckMs: number
  readonly upstream: TaskSubmitter & Pick<DomainApiClient, 'queryDsRecord' | 'queryDomain'>
  /** A domain's DS records at the registry, one read shared by the reads of a few seconds. */
  readonly registryDsRecords: (domain: string) => Promise<readonly DsRecord[]>
  readonly now: () => number
  readonly newTaskId: () => string
  readonly randomBytes: RandomBytes
  readonly logger: Logger
  /** Tasks accepted and queued, upstream calls (see metrics.ts); flushed after each request. */
  readonly metrics: Metrics
  readonly settings: SubmitSettings
  /** Seals and opens the paging cursors handed to callers. */
  readonly cursors: CursorCodec
  /** The API's section of the settings (see composition/gateway-env.ts). */
  readonly api: Settings['api']
  /** One signed delivery attempt through the guarded agent, as the poller sends webhooks. */
  readonly sendWebhook: (message: WebhookMessage) => Promise<SendResult>
  /** Refuses callback URLs the gateway must not call (scheme, SSRF guard); resolves when allowed. */
  readonly checkCallbackUrl: (url: string) => Promise<void>
}

export interface Principal {
  readonly keyId: string
  readonly tenant: string
  readonly scopes: ReadonlySet<Scope>
  readonly callbackUrl: string | undefined
}

export interface AppEnv {
  Variables: {
    requestId: string
    logger: Logger
    /** The caller's rate decision, whose `RateLimit` headers go out with the answer. */
    rateLimit?: RateDecision
    /** What a route's checks found (see routes/route.ts). */
    principal?: Principal
    domain?: string
    params?: Record<string, unknown>
    body?: unknown
    query?: unknown
  }
}

export type App = OpenAPIHono<AppEnv>
