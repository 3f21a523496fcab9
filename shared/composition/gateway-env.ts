import * as z from 'zod'
import type { DomainApiSettings } from '../aliyun/domain-api-settings.ts'
import { DOCUMENTED_DS_TLDS } from '../desired/ds-rules.ts'
import { MAX_SHARDS } from '../poller/shard-work.ts'
import type { StoreSettings } from '../store/store-settings.ts'
import type { RateLimits } from '../tenants/rate-limit.ts'
import { booleanFlag, type Env, parseEnv, positiveInt, positiveUpTo, wholeIn } from './env.ts'
import { loadDomainApiSettings } from './upstream-env.ts'

export const GatewayEnvSchema = z.object({
  TABLE_NAME: z.string().min(3).max(255).default('domain-gateway'),
  DYNAMODB_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Attempts the SDK makes per DynamoDB request (throttling, 5xx and broken connections are
   * retried with its back-off); a write that meets its own earlier attempt is recognised.
   */
  DYNAMODB_MAX_ATTEMPTS: wholeIn(1, 10, 5),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  ADMIN_API_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  API_MAX_BODY_BYTES: positiveInt(64 * 1024),
  /** How long an API instance trusts a key it read (revocation elsewhere shows within this). */
  API_KEY_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  DUE_SHARDS: wholeIn(1, MAX_SHARDS, 8),
  TASK_RETENTION_DAYS: positiveUpTo(3650, 30),
  CALLBACK_ALLOW_HTTP: booleanFlag(false),
  /**
   * `open` (default): a tenant the admin gave no scope may act on every domain and instance (as
   * before scopes existed); `strict`: such a tenant acts on nothing.
   */
  TENANT_SCOPES: z.enum(['open', 'strict']).default('open'),
  /** How long `GET /domains/{name}/ds` answers from one registry read per domain (0: every time). */
  REGISTRY_READ_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  // Requests per tenant per minute, shared by every API instance; 0: unlimited.
  RATE_LIMIT_WRITES_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  RATE_LIMIT_UPSTREAM_READS_PER_MINUTE: z.coerce.number().int().min(0).default(300),
  RATE_LIMIT_READS_PER_MINUTE: z.coerce.number().int().min(0).default(3000),
  RATE_LIMIT_REDELIVERIES_PER_MINUTE: z.coerce.number().int().min(0).default(30),
  /** TLDs for which the registry takes DS records (a DS add elsewhere answers 422). */
  DNSSEC_TLDS: z
    .string()
    .optional()
    .transform((value) =>
      value === undefined || value.trim() === ''
        ? [...DOCUMENTED_DS_TLDS]
        : value
            .split(',')
            .map((item) => item.trim().replace(/^\./, '').toLowerCase())
            .filter(Boolean),
    ),
  /** A submission's attempts are signed and sent only this long after its intent is written. */
  SUBMIT_SEND_WINDOW_SECONDS: wholeIn(1, 3_600, 60),
  /** Tasks that may wait for one domain or instance; one more gets 429. */
  QUEUE_MAX_PER_TARGET: wholeIn(1, 1_000, 100),
  /**
   * Tasks of one tenant that may wait for one domain or instance (default: half of
   * QUEUE_MAX_PER_TARGET, rounded up), so one tenant's backlog leaves room for the others.
   */
  QUEUE_MAX_PER_TENANT: z.coerce.number().int().min(1).max(1_000).optional(),
  /** A task still queued after this long is rejected unsent (`QueueTimeout`). */
  QUEUE_MAX_WAIT_HOURS: positiveUpTo(24 * 30, 24),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** `on`: write CloudWatch EMF metric lines to stdout (set on AWS; a flag to see them locally). */
  METRICS: z.enum(['on', 'off']).default('off'),
  METRICS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._/#:-]{1,255}$/, 'must be a CloudWatch namespace')
    .default('DomainGateway'),
  METRICS_SERVICE: z.string().min(1).max(255).default('domain-gateway'),
})

export interface GatewayConfig {
  readonly upstream: DomainApiSettings
  readonly store: StoreSettings
  readonly api: {
    /** Unset: the admin API answers 401 to everyone. */
    readonly adminApiKey: string | undefined
    readonly maxBodyBytes: number
    /** 0: every request reads its key from the store. */
    readonly keyCacheMs: number
    /** Allow `http:` callback URLs (local development); `https:` otherwise. */
    readonly allowHttpCallbacks: boolean
    /** TLDs whose domains may get DS records (see desired/ds-rules.ts). */
    readonly dsTlds: ReadonlySet<string>
    /** How a tenant without a scope record is treated (see tenants/tenant-scope.ts). */
    readonly tenantScopes: 'open' | 'strict'
    /** How long a registry read of a domain's DS records answers repeated reads. */
    readonly registryReadCacheMs: number
    /** Requests per tenant per minute by kind (0: unlimited); a tenant's record may set its own. */
    readonly rateLimits: RateLimits
  }
  readonly submit: {
    /** Attempts are signed and sent only until the intent's creation time plus this. */
    readonly sendWindowMs: number
    readonly queueMaxPerTarget: number
    readonly queueMaxPerTenant: number
    readonly queueMaxWaitMs: number
  }
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error'
  /** Undefined: metrics off. */
  readonly metrics: { readonly namespace: string; readonly service: string } | undefined
}

function storeSettings(parsed: z.infer<typeof GatewayEnvSchema>): StoreSettings {
  return {
    tableName: parsed.TABLE_NAME,
    endpoint: parsed.DYNAMODB_ENDPOINT,
    region: parsed.AWS_REGION,
    dueShards: parsed.DUE_SHARDS,
    taskRetentionMs: parsed.TASK_RETENTION_DAYS * 86_400_000,
    maxAttempts: parsed.DYNAMODB_MAX_ATTEMPTS,
  }
}

/** Where the table is, alone (scripts and tests that only read or write it). */
export function loadStoreSettings(env: Env): StoreSettings {
  return storeSettings(parseEnv(GatewayEnvSchema, env))
}

/** The upstream's, the store's, the API's and submission's sections of the settings (settings.ts). */
export function loadGatewayConfig(env: Env): GatewayConfig {
  const parsed = parseEnv(GatewayEnvSchema, env)
  return {
    upstream: loadDomainApiSettings(env),
    store: storeSettings(parsed),
    api: {
      adminApiKey: parsed.ADMIN_API_KEY,
      maxBodyBytes: parsed.API_MAX_BODY_BYTES,
      keyCacheMs: parsed.API_KEY_CACHE_SECONDS * 1000,
      allowHttpCallbacks: parsed.CALLBACK_ALLOW_HTTP,
      dsTlds: new Set(parsed.DNSSEC_TLDS),
      tenantScopes: parsed.TENANT_SCOPES,
      registryReadCacheMs: parsed.REGISTRY_READ_CACHE_SECONDS * 1000,
      rateLimits: {
        writes: parsed.RATE_LIMIT_WRITES_PER_MINUTE,
        upstreamReads: parsed.RATE_LIMIT_UPSTREAM_READS_PER_MINUTE,
        reads: parsed.RATE_LIMIT_READS_PER_MINUTE,
        redeliveries: parsed.RATE_LIMIT_REDELIVERIES_PER_MINUTE,
      },
    },
    submit: {
      sendWindowMs: parsed.SUBMIT_SEND_WINDOW_SECONDS * 1000,
      queueMaxPerTarget: parsed.QUEUE_MAX_PER_TARGET,
      queueMaxPerTenant: Math.min(
        parsed.QUEUE_MAX_PER_TARGET,
        parsed.QUEUE_MAX_PER_TENANT ?? Math.ceil(parsed.QUEUE_MAX_PER_TARGET / 2),
      ),
      queueMaxWaitMs: parsed.QUEUE_MAX_WAIT_HOURS * 3_600_000,
    },
    logLevel: parsed.LOG_LEVEL,
    metrics:
      parsed.METRICS === 'on'
        ? { namespace: parsed.METRICS_NAMESPACE, service: parsed.METRICS_SERVICE }
        : undefined,
  }
}
