import { z } from 'zod'
import { DOCUMENTED_DS_TLDS } from './desired/ds-rules.ts'
import type { RateLimits } from './tenants/rate-limit.ts'
import { addressPolicy, checkAddress } from './webhooks/address-policy.ts'

/**
 * The one place that reads the environment. Every setting is parsed with zod; a bad or missing
 * value fails at start with a message naming the variable.
 */

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback)

const DEFAULT_ENDPOINT = 'https://domain.aliyuncs.com'
/** `domain-intl` is the older product line and only speaks its own API version. */
const VERSION_BY_HOST_PREFIX = [['domain-intl.', '2017-12-18']] as const
const DEFAULT_API_VERSION = '2018-01-29'

export const UpstreamEnvSchema = z.object({
  ALIYUN_ENDPOINT: z.url({ protocol: /^https?$/ }).default(DEFAULT_ENDPOINT),
  ALIYUN_API_VERSION: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'must look like 2018-01-29')
    .optional(),
  ALIYUN_ACCESS_KEY_ID: z.string().min(1, 'is required'),
  ALIYUN_ACCESS_KEY_SECRET: z.string().min(1, 'is required'),
  ALIYUN_SECURITY_TOKEN: z.string().min(1).optional(),
  ALIYUN_SIGNATURE_VERSION: z.enum(['v1', 'v3']).default('v1'),
  ALIYUN_HTTP_METHOD: z.enum(['POST', 'GET']).default('POST'),
  ALIYUN_TIMEOUT_MS: positiveInt(10_000),
  ALIYUN_CONNECT_TIMEOUT_MS: positiveInt(3_000),
  ALIYUN_READ_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  ALIYUN_MAX_CONNECTIONS: positiveInt(32),
  /** How far from the service's clock a signed Timestamp may be (the service's rule: 15 min). */
  ALIYUN_TIMESTAMP_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** Writes are refused while the service's clock is proven further than this from ours. */
  ALIYUN_MAX_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
})

export interface UpstreamConfig {
  readonly endpoint: string
  readonly apiVersion: string
  readonly credentials: {
    readonly accessKeyId: string
    readonly accessKeySecret: string
    readonly securityToken?: string | undefined
  }
  readonly signatureVersion: 'v1' | 'v3'
  readonly method: 'POST' | 'GET'
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  readonly readRetries: number
  readonly maxConnections: number
  /** The service refuses a request whose signed Timestamp is further than this from its clock. */
  readonly timestampWindowMs: number
  /** Largest offset between the service's clock and ours under which writes are sent. */
  readonly maxClockSkewMs: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Env = Readonly<Record<string, string | undefined>>

function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  // Empty strings count as unset, as a shell `FOO=` usually means.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const result = schema.safeParse(cleaned)
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)'
    return `${name} ${issue.message}`
  })
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`)
}

function defaultVersionFor(endpoint: string): string {
  const host = new URL(endpoint).hostname
  return (
    VERSION_BY_HOST_PREFIX.find(([prefix]) => host.startsWith(prefix))?.[1] ?? DEFAULT_API_VERSION
  )
}

export function loadUpstreamConfig(env: Env = process.env): UpstreamConfig {
  const parsed = parseEnv(UpstreamEnvSchema, env)
  return {
    endpoint: parsed.ALIYUN_ENDPOINT.replace(/\/+$/, ''),
    apiVersion: parsed.ALIYUN_API_VERSION ?? defaultVersionFor(parsed.ALIYUN_ENDPOINT),
    credentials: {
      accessKeyId: parsed.ALIYUN_ACCESS_KEY_ID,
      accessKeySecret: parsed.ALIYUN_ACCESS_KEY_SECRET,
      securityToken: parsed.ALIYUN_SECURITY_TOKEN,
    },
    signatureVersion: parsed.ALIYUN_SIGNATURE_VERSION,
    method: parsed.ALIYUN_HTTP_METHOD,
    timeoutMs: parsed.ALIYUN_TIMEOUT_MS,
    connectTimeoutMs: parsed.ALIYUN_CONNECT_TIMEOUT_MS,
    readRetries: parsed.ALIYUN_READ_RETRIES,
    maxConnections: parsed.ALIYUN_MAX_CONNECTIONS,
    timestampWindowMs: parsed.ALIYUN_TIMESTAMP_WINDOW_SECONDS * 1000,
    maxClockSkewMs: parsed.ALIYUN_MAX_CLOCK_SKEW_SECONDS * 1000,
  }
}

const rate = z.coerce.number().min(0).max(1).optional()
const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
const regex = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return new RegExp(value)
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a valid regular expression' })
        return z.NEVER
      }
    })

export const EmulatorEnvSchema = z.object({
  EMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  EMULATOR_HOST: z.string().default('127.0.0.1'),
  ALIYUN_ACCESS_KEY_ID: z.string().min(1).optional(),
  ALIYUN_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  ALIYUN_SECURITY_TOKEN: z.string().min(1).optional(),
  EMULATOR_TASK_MS: z.coerce.number().int().min(0).max(3_600_000).default(2_000),
  /** The parent zone over DNS (UDP and TCP) on this port; 0 picks a free one; unset: off. */
  EMULATOR_DNS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  EMULATOR_DS_PUBLISH_DELAY_MS: z.coerce.number().int().min(0).max(86_400_000).default(500),
  EMULATOR_DS_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(2),
  EMULATOR_TIMESTAMP_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** Shifts the emulator's clock, to try a gateway against a service whose clock is off. */
  EMULATOR_CLOCK_OFFSET_SECONDS: z.coerce.number().int().min(-86_400).max(86_400).default(0),
  EMULATOR_UNREGISTERED_PATTERN: regex('^unregistered'),
  EMULATOR_UNREGISTERED_DOMAINS: commaList,
  EMULATOR_FAILING_PATTERN: regex('^fail'),
  /**
   * `documented` (default) or `adversarial`: the latter varies what the public documents leave
   * open (listing order, DS task types, listing delay, batch failures, durations, unrelated tasks);
   * the settings below pin one of them.
   */
  EMULATOR_PROFILE: z.enum(['documented', 'adversarial']).default('documented'),
  EMULATOR_LIST_ORDER: z.enum(['newest', 'oldest', 'random']).optional(),
  EMULATOR_LISTING_DELAY_MS: z.coerce.number().int().min(0).max(600_000).optional(),
  EMULATOR_BATCH_FAILURE: z.enum(['request', 'detail']).optional(),
  EMULATOR_UNRELATED_TASKS: z.coerce.number().int().min(0).max(100_000).optional(),
  EMULATOR_LATENCY_MS: z.coerce.number().int().min(0).max(120_000).optional(),
  EMULATOR_THROTTLE_RATE: rate,
  EMULATOR_UNAVAILABLE_RATE: rate,
  EMULATOR_5XX_RATE: rate,
  EMULATOR_5XX_EMPTY_RATE: rate,
  EMULATOR_RESET_RATE: rate,
  EMULATOR_MALFORMED_RATE: rate,
  EMULATOR_NETWORK_IO_ERROR_RATE: rate,
  EMULATOR_SLOW_BODY_MS: z.coerce.number().int().min(0).max(120_000).optional(),
  EMULATOR_FAULT_ACTIONS: commaList,
  EMULATOR_FAULTS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value) return []
      try {
        const parsed: unknown = JSON.parse(value)
        if (Array.isArray(parsed)) return parsed as Record<string, unknown>[]
      } catch {}
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of fault rules' })
      return z.NEVER
    }),
})

/** A fault rule as configured; the emulator validates its shape. */
export type FaultRuleConfig = Record<string, unknown>

export interface EmulatorConfig {
  readonly port: number | undefined
  readonly host: string
  readonly credential: { accessKeyId: string; accessKeySecret: string; securityToken?: string }
  readonly taskMs: number
  /** The parent zone over DNS, when EMULATOR_DNS_PORT is set. */
  readonly parentZone:
    | { readonly port: number; readonly publishDelayMs: number; readonly dsTtlSeconds: number }
    | undefined
  readonly timestampWindowMs: number
  readonly clockOffsetMs: number
  readonly unregisteredPattern: RegExp
  readonly unregisteredDomains: readonly string[]
  readonly failingPattern: RegExp
  readonly faults: readonly FaultRuleConfig[]
  /** The behaviour profile and what is pinned of it (see infra/emulator/behaviour.ts). */
  readonly behaviour: {
    readonly profile: 'documented' | 'adversarial'
    readonly listOrder?: 'newest' | 'oldest' | 'random'
    readonly listingDelayMs?: number
    readonly batchFailure?: 'request' | 'detail'
    readonly unrelatedTasks?: number
  }
}

/**
 * Settings of the Domain API emulator. Credentials default to the documented local ones; each
 * `EMULATOR_*_RATE` becomes one fault rule, limited to `EMULATOR_FAULT_ACTIONS` when set.
 */
export function loadEmulatorConfig(
  env: Env = process.env,
  localDefaults: { accessKeyId: string; accessKeySecret: string },
): EmulatorConfig {
  const parsed = parseEnv(EmulatorEnvSchema, env)
  const actions =
    parsed.EMULATOR_FAULT_ACTIONS.length > 0 ? parsed.EMULATOR_FAULT_ACTIONS : undefined
  const rules: FaultRuleConfig[] = []
  const addRule = (kind: string, rateValue: number | undefined, extra: object = {}) => {
    if (rateValue !== undefined && rateValue > 0)
      rules.push({ kind, rate: rateValue, actions, ...extra })
  }
  if (parsed.EMULATOR_LATENCY_MS) addRule('latency', 1, { ms: parsed.EMULATOR_LATENCY_MS })
  addRule('throttle', parsed.EMULATOR_THROTTLE_RATE)
  addRule('unavailable', parsed.EMULATOR_UNAVAILABLE_RATE)
  addRule('error5xx', parsed.EMULATOR_5XX_RATE)
  addRule('error5xxEmpty', parsed.EMULATOR_5XX_EMPTY_RATE)
  addRule('reset', parsed.EMULATOR_RESET_RATE)
  addRule('malformed', parsed.EMULATOR_MALFORMED_RATE)
  addRule('networkIoError', parsed.EMULATOR_NETWORK_IO_ERROR_RATE)
  if (parsed.EMULATOR_SLOW_BODY_MS) addRule('slowBody', 1, { ms: parsed.EMULATOR_SLOW_BODY_MS })
  return {
    port: parsed.EMULATOR_PORT,
    host: parsed.EMULATOR_HOST,
    credential: {
      accessKeyId: parsed.ALIYUN_ACCESS_KEY_ID ?? localDefaults.accessKeyId,
      accessKeySecret: parsed.ALIYUN_ACCESS_KEY_SECRET ?? localDefaults.accessKeySecret,
      ...(parsed.ALIYUN_SECURITY_TOKEN ? { securityToken: parsed.ALIYUN_SECURITY_TOKEN } : {}),
    },
    taskMs: parsed.EMULATOR_TASK_MS,
    parentZone:
      parsed.EMULATOR_DNS_PORT === undefined
        ? undefined
        : {
            port: parsed.EMULATOR_DNS_PORT,
            publishDelayMs: parsed.EMULATOR_DS_PUBLISH_DELAY_MS,
            dsTtlSeconds: parsed.EMULATOR_DS_TTL_SECONDS,
          },
    timestampWindowMs: parsed.EMULATOR_TIMESTAMP_WINDOW_SECONDS * 1000,
    clockOffsetMs: parsed.EMULATOR_CLOCK_OFFSET_SECONDS * 1000,
    unregisteredPattern: parsed.EMULATOR_UNREGISTERED_PATTERN,
    unregisteredDomains: parsed.EMULATOR_UNREGISTERED_DOMAINS,
    failingPattern: parsed.EMULATOR_FAILING_PATTERN,
    faults: [...rules, ...parsed.EMULATOR_FAULTS],
    behaviour: {
      profile: parsed.EMULATOR_PROFILE,
      ...(parsed.EMULATOR_LIST_ORDER ? { listOrder: parsed.EMULATOR_LIST_ORDER } : {}),
      ...(parsed.EMULATOR_LISTING_DELAY_MS !== undefined
        ? { listingDelayMs: parsed.EMULATOR_LISTING_DELAY_MS }
        : {}),
      ...(parsed.EMULATOR_BATCH_FAILURE ? { batchFailure: parsed.EMULATOR_BATCH_FAILURE } : {}),
      ...(parsed.EMULATOR_UNRELATED_TASKS !== undefined
        ? { unrelatedTasks: parsed.EMULATOR_UNRELATED_TASKS }
        : {}),
    },
  }
}

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes')

/** Reads the process environment with secret parameters resolved; see `secret-parameters.ts`. */
export async function loadEnvironment(
  resolve: (env: Env) => Promise<Env>,
  env: Env = process.env,
): Promise<Env> {
  return resolve(env)
}

export const GatewayEnvSchema = z.object({
  TABLE_NAME: z.string().min(3).max(255).default('domain-gateway'),
  DYNAMODB_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  ADMIN_API_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  API_MAX_BODY_BYTES: positiveInt(64 * 1024),
  /** How long an API instance trusts a key it read (revocation elsewhere shows within this). */
  API_KEY_CACHE_SECONDS: z.coerce.number().min(0).max(300).default(5),
  DUE_SHARDS: z.coerce.number().int().min(1).max(64).default(8),
  TASK_RETENTION_DAYS: z.coerce.number().positive().max(3650).default(30),
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
  SUBMIT_SEND_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  /** Tasks that may wait for one domain or instance; one more gets 429. */
  QUEUE_MAX_PER_TARGET: z.coerce.number().int().min(1).max(1_000).default(100),
  /**
   * Tasks of one tenant that may wait for one domain or instance (default: half of
   * QUEUE_MAX_PER_TARGET, rounded up), so one tenant's backlog leaves room for the others.
   */
  QUEUE_MAX_PER_TENANT: z.coerce.number().int().min(1).max(1_000).optional(),
  /** A task still queued after this long is rejected unsent (`QueueTimeout`). */
  QUEUE_MAX_WAIT_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(24),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** `on`: write CloudWatch EMF metric lines to stdout (set on AWS; a flag to see them locally). */
  METRICS: z.enum(['on', 'off']).default('off'),
  METRICS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9._/#:-]{1,255}$/, 'must be a CloudWatch namespace')
    .default('DomainGateway'),
  METRICS_SERVICE: z.string().min(1).max(255).default('domain-gateway'),
})

export interface StoreConfig {
  readonly tableName: string
  readonly endpoint: string | undefined
  readonly region: string
  readonly dueShards: number
  readonly taskRetentionMs: number
}

export interface GatewayConfig {
  readonly upstream: UpstreamConfig
  readonly store: StoreConfig
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

export function loadStoreConfig(env: Env = process.env): StoreConfig {
  const parsed = parseEnv(GatewayEnvSchema, env)
  return {
    tableName: parsed.TABLE_NAME,
    endpoint: parsed.DYNAMODB_ENDPOINT,
    region: parsed.AWS_REGION,
    dueShards: parsed.DUE_SHARDS,
    taskRetentionMs: parsed.TASK_RETENTION_DAYS * 86_400_000,
  }
}

/** Everything the API function needs, parsed and checked at once. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const parsed = parseEnv(GatewayEnvSchema, env)
  return {
    upstream: loadUpstreamConfig(env),
    store: loadStoreConfig(env),
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

export const LocalEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  EMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  DYNAMODB_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  DYNAMODB_DATA_DIR: z.string().min(1).optional(),
  ALIYUN_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  DEV_API_KEY: z
    .string()
    .regex(
      /^dgw_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/,
      'must be a key this gateway issued (dgw_<16>_<43>)',
    )
    .optional(),
  DEV_TENANT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/)
    .default('local-dev'),
  ADMIN_API_KEY: z.string().min(24).optional(),
  POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  CALLBACK_RECEIVER_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  PRINT_CALLBACKS: booleanFlag(true),
})

export interface LocalConfig {
  readonly port: number
  readonly emulatorPort: number
  /** Unset: start the embedded engine. */
  readonly dynamoDbEndpoint: string | undefined
  readonly dynamoDbDataDir: string | undefined
  /** Unset: start the emulator. */
  readonly aliyunEndpoint: string | undefined
  readonly devApiKey: string | undefined
  readonly devTenant: string
  readonly adminApiKey: string | undefined
  /** Pause between poller runs under `npm start`. */
  readonly pollIntervalMs: number
  readonly callbackReceiverPort: number
  /** Run the bundled receiver and point the dev key's callbacks at it. */
  readonly printCallbacks: boolean
}

/** Settings of `npm start` (the local all-in-one runner). */
export function loadLocalConfig(
  env: Env = process.env,
  defaults: { apiPort: number; emulatorPort: number; receiverPort: number },
): LocalConfig {
  const parsed = parseEnv(LocalEnvSchema, env)
  return {
    port: parsed.PORT ?? defaults.apiPort,
    emulatorPort: parsed.EMULATOR_PORT ?? defaults.emulatorPort,
    dynamoDbEndpoint: parsed.DYNAMODB_ENDPOINT,
    dynamoDbDataDir: parsed.DYNAMODB_DATA_DIR,
    aliyunEndpoint: parsed.ALIYUN_ENDPOINT,
    devApiKey: parsed.DEV_API_KEY,
    devTenant: parsed.DEV_TENANT,
    adminApiKey: parsed.ADMIN_API_KEY,
    pollIntervalMs: parsed.POLL_INTERVAL_MS,
    callbackReceiverPort: parsed.CALLBACK_RECEIVER_PORT ?? defaults.receiverPort,
    printCallbacks: parsed.PRINT_CALLBACKS,
  }
}

const secondsList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      const parts = value.split(',').map((part) => part.trim())
      if (parts.length === 0 || parts.some((part) => !/^\d+(\.\d+)?$/.test(part))) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of seconds' })
        return z.NEVER
      }
      return parts.map((part) => Math.round(Number(part) * 1000))
    })

export const WorkerEnvSchema = z.object({
  CALLBACK_ALLOWLIST: commaList,
  CALLBACK_ALLOW_LOOPBACK: booleanFlag(false),
  CALLBACK_TIMEOUT_MS: z.coerce.number().int().min(1000).max(30_000).default(15_000),
  CALLBACK_RETRY_SCHEDULE: secondsList('5,300,1800,7200,18000,36000,36000'),
  CALLBACK_JITTER: z.coerce.number().min(0).max(0.5).default(0.2),
  CALLBACK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  CALLBACK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(16),
  /** Deliveries of one tenant in flight at once (default: half of CALLBACK_CONCURRENCY). */
  CALLBACK_TENANT_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  /** An endpoint failing without a success for this long is disabled (Svix: 5 days). */
  CALLBACK_DISABLE_AFTER_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(120),
  POLL_DELAYS: secondsList('2,3,5,10,15,30,60,120,300'),
  POLL_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  POLL_LEASE_SECONDS: z.coerce.number().int().min(5).max(900).default(60),
  TASK_MAX_AGE_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(72),
  RECONCILE_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** Added to the absence window for the service's own processing and listing delay. */
  RECONCILE_ABSENCE_MARGIN_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  DUE_SWEEP_INTERVAL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(60),
  DUE_SWEEP_STALE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(10),
  /** How often a running change looks at its steps when no step's end wakes it sooner. */
  CHANGE_RECHECK_SECONDS: z.coerce.number().positive().max(3_600).default(15),
  /** How often the drift check walks the managed domains (on AWS: the drift function's rate). */
  DRIFT_CHECK_MINUTES: z.coerce
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(15),
  /**
   * JSON `{"zone": ["host:port", …]}`: ask these servers for that zone instead of looking them up
   * (local servers, tests, the emulator's parent zone). Not for production.
   */
  DNS_SERVER_OVERRIDES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value) return {}
      try {
        const parsed = z
          .record(z.string(), z.array(z.string().regex(/^[^\s]+:\d{1,5}$/)))
          .parse(JSON.parse(value))
        return Object.fromEntries(
          Object.entries(parsed).map(([zone, servers]) => [
            zone.toLowerCase().replace(/\.$/, ''),
            servers,
          ]),
        )
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON: {"zone": ["host:port", …]}' })
        return z.NEVER
      }
    }),
  /** A rollover that has not moved for this long sends dnssec.rollover.stuck. */
  DNSSEC_STUCK_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(48),
  /** Identical scans over TCP before an unsigned delegation's first DS is added. */
  DNSSEC_BOOTSTRAP_SCANS: z.coerce.number().int().min(1).max(1_000).default(3),
  SYNC_CALLBACK_URL: z.url({ protocol: /^https?$/ }).optional(),
  SSM_ENDPOINT: z.url().optional(),
  SYNC_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be a whsec_ secret (base64 of 24-64 bytes)')
    .optional(),
})

export interface WorkerConfig {
  readonly callbacks: {
    readonly allowlist: readonly string[]
    readonly allowLoopback: boolean
    readonly allowHttp: boolean
    readonly timeoutMs: number
    readonly retryDelaysMs: readonly number[]
    readonly jitter: number
    readonly concurrency: number
    readonly perEndpoint: number
    readonly perTenant: number
    readonly disableAfterMs: number
  }
  readonly poller: {
    readonly pollDelaysMs: readonly number[]
    readonly concurrency: number
    readonly leaseMs: number
    readonly maxTaskAgeMs: number
    readonly reconcileAfterMs: number
    readonly absenceMarginMs: number
    readonly dueSweepIntervalMs: number
    readonly dueSweepStaleMs: number
    readonly changeRecheckMs: number
  }
  readonly drift: {
    readonly checkEveryMs: number
  }
  readonly dnssec: {
    readonly serverOverrides: Readonly<Record<string, readonly string[]>>
    readonly stuckAfterMs: number
    readonly bootstrapScans: number
  }
  readonly sync: {
    readonly callbackUrl: string | undefined
    readonly webhookSecret: string | undefined
  }
}

/** Settings of the poller, webhook delivery and scheduled sync, shared with the API's SSRF checks. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const parsed = parseEnv(WorkerEnvSchema, env)
  const gateway = parseEnv(GatewayEnvSchema, env)
  for (const cidr of parsed.CALLBACK_ALLOWLIST) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(cidr)) {
      throw new ConfigError(`Invalid configuration: CALLBACK_ALLOWLIST entry ${cidr} is not a CIDR`)
    }
  }
  // The scanner asks override servers as given: each must be an address the policy allows.
  const policy = addressPolicy({
    allowLoopback: parsed.CALLBACK_ALLOW_LOOPBACK,
    allowlist: parsed.CALLBACK_ALLOWLIST,
  })
  for (const [zone, servers] of Object.entries(parsed.DNS_SERVER_OVERRIDES)) {
    for (const server of servers) {
      const host = server.slice(0, server.lastIndexOf(':'))
      const verdict = checkAddress(host, policy)
      if (!verdict.allowed) {
        throw new ConfigError(
          `Invalid configuration: DNS_SERVER_OVERRIDES for ${zone}: ${verdict.reason} (the address policy: CALLBACK_ALLOW_LOOPBACK, CALLBACK_ALLOWLIST)`,
        )
      }
    }
  }
  return {
    callbacks: {
      allowlist: parsed.CALLBACK_ALLOWLIST,
      allowLoopback: parsed.CALLBACK_ALLOW_LOOPBACK,
      allowHttp: gateway.CALLBACK_ALLOW_HTTP,
      timeoutMs: parsed.CALLBACK_TIMEOUT_MS,
      retryDelaysMs: parsed.CALLBACK_RETRY_SCHEDULE,
      jitter: parsed.CALLBACK_JITTER,
      concurrency: parsed.CALLBACK_CONCURRENCY,
      perEndpoint: parsed.CALLBACK_ENDPOINT_CONCURRENCY,
      perTenant: Math.min(
        parsed.CALLBACK_CONCURRENCY,
        parsed.CALLBACK_TENANT_CONCURRENCY ?? Math.ceil(parsed.CALLBACK_CONCURRENCY / 2),
      ),
      disableAfterMs: parsed.CALLBACK_DISABLE_AFTER_HOURS * 3_600_000,
    },
    poller: {
      pollDelaysMs: parsed.POLL_DELAYS,
      concurrency: parsed.POLL_CONCURRENCY,
      leaseMs: parsed.POLL_LEASE_SECONDS * 1000,
      maxTaskAgeMs: parsed.TASK_MAX_AGE_HOURS * 3_600_000,
      reconcileAfterMs: parsed.RECONCILE_AFTER_SECONDS * 1000,
      absenceMarginMs: parsed.RECONCILE_ABSENCE_MARGIN_SECONDS * 1000,
      dueSweepIntervalMs: parsed.DUE_SWEEP_INTERVAL_MINUTES * 60_000,
      dueSweepStaleMs: parsed.DUE_SWEEP_STALE_MINUTES * 60_000,
      changeRecheckMs: parsed.CHANGE_RECHECK_SECONDS * 1000,
    },
    drift: { checkEveryMs: parsed.DRIFT_CHECK_MINUTES * 60_000 },
    dnssec: {
      serverOverrides: parsed.DNS_SERVER_OVERRIDES,
      stuckAfterMs: parsed.DNSSEC_STUCK_HOURS * 3_600_000,
      bootstrapScans: parsed.DNSSEC_BOOTSTRAP_SCANS,
    },
    sync: { callbackUrl: parsed.SYNC_CALLBACK_URL, webhookSecret: parsed.SYNC_WEBHOOK_SECRET },
  }
}
