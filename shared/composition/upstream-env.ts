import * as z from 'zod'
import type { DomainApiSettings } from '../aliyun/domain-api-settings.ts'
import { type Env, parseEnv, positiveInt, wholeIn } from './env.ts'

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
  ALIYUN_READ_RETRIES: wholeIn(0, 10, 3),
  ALIYUN_MAX_CONNECTIONS: positiveInt(32),
  /** How far from the service's clock a signed Timestamp may be (the service's rule: 15 min). */
  ALIYUN_TIMESTAMP_WINDOW_SECONDS: wholeIn(1, 86_400, 900),
  /** Writes are refused while the service's clock is proven further than this from ours. */
  ALIYUN_MAX_CLOCK_SKEW_SECONDS: wholeIn(1, 3_600, 30),
  /**
   * Calls per second for the whole Alibaba Cloud account, shared by every worker through a token
   * bucket in the table (0: no shared limit). A throttling answer halves it for a while.
   */
  UPSTREAM_RATE_PER_SECOND: z.coerce.number().min(0).max(10_000).default(0),
  UPSTREAM_RATE_BURST: z.coerce.number().int().min(1).max(100_000).optional(),
  /** Tokens a worker takes from the shared bucket at once (fewer writes; less exact). */
  UPSTREAM_RATE_BATCH: wholeIn(1, 1_000, 5),
  UPSTREAM_RATE_SLOW_SECONDS: wholeIn(1, 3_600, 30),
})

function defaultVersionFor(endpoint: string): string {
  const host = new URL(endpoint).hostname
  return (
    VERSION_BY_HOST_PREFIX.find(([prefix]) => host.startsWith(prefix))?.[1] ?? DEFAULT_API_VERSION
  )
}

export function loadDomainApiSettings(env: Env): DomainApiSettings {
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
    rate:
      parsed.UPSTREAM_RATE_PER_SECOND > 0
        ? {
            perSecond: parsed.UPSTREAM_RATE_PER_SECOND,
            burst:
              parsed.UPSTREAM_RATE_BURST ?? Math.max(1, Math.ceil(parsed.UPSTREAM_RATE_PER_SECOND)),
            batch: parsed.UPSTREAM_RATE_BATCH,
            slowForMs: parsed.UPSTREAM_RATE_SLOW_SECONDS * 1000,
          }
        : undefined,
  }
}
