import * as z from 'zod'
import type { TrustAnchor } from '../dns/chain-of-trust.ts'
import { parseTrustAnchor, ROOT_TRUST_ANCHORS } from '../dns/trust-anchors.ts'
import type { PreflightSettings } from '../preflight/check-change.ts'
import type { PublicationSettings } from '../publication/publication.ts'
import { addressPolicy, checkAddress } from '../webhooks/address-policy.ts'
import type { CallbackSettings } from '../webhooks/callback-settings.ts'
import {
  booleanFlag,
  ConfigError,
  commaList,
  type Env,
  parseEnv,
  positiveUpTo,
  wholeIn,
} from './env.ts'
import type { GatewayConfig } from './gateway-env.ts'

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
  CALLBACK_TIMEOUT_MS: wholeIn(1000, 30_000, 15_000),
  CALLBACK_RETRY_SCHEDULE: secondsList('5,300,1800,7200,18000,36000,36000'),
  CALLBACK_JITTER: z.coerce.number().min(0).max(0.5).default(0.2),
  CALLBACK_CONCURRENCY: wholeIn(1, 256, 32),
  CALLBACK_ENDPOINT_CONCURRENCY: wholeIn(1, 64, 16),
  /** Deliveries of one tenant in flight at once (default: half of CALLBACK_CONCURRENCY). */
  CALLBACK_TENANT_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  /** An endpoint failing without a success for this long is disabled (Svix: 5 days). */
  CALLBACK_DISABLE_AFTER_HOURS: positiveUpTo(24 * 30, 120),
  POLL_DELAYS: secondsList('2,3,5,10,15,30,60,120,300'),
  POLL_CONCURRENCY: wholeIn(1, 256, 16),
  POLL_LEASE_SECONDS: wholeIn(5, 900, 60),
  /**
   * The SQS queue a scheduled run hands its shards to (one message per worker); unset, the
   * scheduled run drains every shard itself (see docs/scaling.md).
   */
  POLLER_QUEUE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Workers a scheduled run is split between (at most DUE_SHARDS of them get a part). */
  POLLER_WORKERS: wholeIn(1, 64, 1),
  TASK_MAX_AGE_HOURS: positiveUpTo(24 * 30, 72),
  RECONCILE_AFTER_SECONDS: wholeIn(1, 3600, 30),
  /** Added to the absence window for the service's own processing and listing delay. */
  RECONCILE_ABSENCE_MARGIN_SECONDS: wholeIn(0, 86_400, 60),
  DUE_SWEEP_INTERVAL_MINUTES: wholeIn(1, 7 * 24 * 60, 60),
  DUE_SWEEP_STALE_MINUTES: wholeIn(1, 24 * 60, 10),
  /** How often a running change looks at its steps when no step's end wakes it sooner. */
  CHANGE_RECHECK_SECONDS: positiveUpTo(3_600, 15),
  /** How often the drift check walks the managed domains (on AWS: the drift function's rate). */
  DRIFT_CHECK_MINUTES: positiveUpTo(7 * 24 * 60, 15),
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
  /**
   * `system`: a zone's servers (and a name server's addresses) not in DNS_SERVER_OVERRIDES are
   * looked up with the system resolver; `overrides`: only the overrides are asked (tests, a closed
   * lab, `npm start`), so any other zone's check is `unverified`.
   */
  DNS_LOOKUP: z.enum(['system', 'overrides']).default('system'),
  /** A rollover that has not moved for this long sends dnssec.rollover.stuck. */
  DNSSEC_STUCK_HOURS: positiveUpTo(24 * 365, 48),
  /**
   * JSON `["<zone> IN DS <key tag> <algorithm> <digest type> <hex>", …]`: where chains of trust
   * start for RFC 9615 bootstrap signals. The root's KSKs by default; locally, the emulator's TLDs.
   */
  DNSSEC_TRUST_ANCHORS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value) return ROOT_TRUST_ANCHORS.map((line) => parseTrustAnchor(line) as TrustAnchor)
      try {
        const lines = z.array(z.string()).min(1).parse(JSON.parse(value))
        const anchors = lines.map((line) => parseTrustAnchor(line))
        if (anchors.every((anchor) => anchor !== undefined)) return anchors as TrustAnchor[]
      } catch {
        // Reported below.
      }
      ctx.addIssue({
        code: 'custom',
        message: 'must be JSON: ["<zone> IN DS <key tag> <algorithm> <digest type> <hex>", …]',
      })
      return z.NEVER
    }),
  /**
   * What a change whose pre-flight check could not ask the zone's servers does: `refuse` (409,
   * nothing written) or `proceed` (carried out, the `unverified` verdict recorded; `npm start`).
   */
  PREFLIGHT_UNVERIFIED: z.enum(['refuse', 'proceed']).default('refuse'),
  /** How long the pre-flight check of one domain may take; past it the domain is `unverified`. */
  PREFLIGHT_TIMEOUT_MS: wholeIn(100, 30_000, 5_000),
  /** The name servers of Alibaba Cloud DNS, asked before a move to it (`aliyunDns: true`). */
  ALIBABA_DNS_NAME_SERVERS: z
    .string()
    .default('dns1.hichina.com,dns2.hichina.com')
    .transform((value) =>
      value
        .split(',')
        .map((host) => host.trim().toLowerCase().replace(/\.$/, ''))
        .filter(Boolean),
    ),
  /**
   * How long after a registry task succeeds the parent zone may take to serve it (a DS, a
   * delegation); past it `publication.late` and the ChangesNotPublished metric.
   */
  PUBLICATION_TIMEOUT_MINUTES: positiveUpTo(7 * 24 * 60, 180),
  /** The waits between looks at the parent zone after a task succeeds, the last repeated. */
  PUBLICATION_CHECK_SECONDS: secondsList('30,60,120,300'),
  /** Identical scans over TCP before an unsigned delegation's first DS is added. */
  DNSSEC_BOOTSTRAP_SCANS: wholeIn(1, 1_000, 3),
  SYNC_CALLBACK_URL: z.url({ protocol: /^https?$/ }).optional(),
  SSM_ENDPOINT: z.url().optional(),
  SYNC_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be a whsec_ secret (base64 of 24-64 bytes)')
    .optional(),
})

export interface WorkerConfig {
  readonly callbacks: CallbackSettings
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
    /** Where a run's parts go (SQS); undefined: the run is worked in its own process. */
    readonly queueUrl: string | undefined
    readonly workers: number
  }
  readonly drift: {
    readonly checkEveryMs: number
  }
  readonly dnssec: {
    readonly serverOverrides: Readonly<Record<string, readonly string[]>>
    readonly lookup: 'system' | 'overrides'
    readonly stuckAfterMs: number
    readonly bootstrapScans: number
    readonly trustAnchors: readonly TrustAnchor[]
  }
  readonly preflight: PreflightSettings
  readonly publication: PublicationSettings
  readonly sync: {
    readonly callbackUrl: string | undefined
    readonly webhookSecret: string | undefined
  }
}

/**
 * The poller's, webhook delivery's, DNS checks' and scheduled sync's sections of the settings (see
 * settings.ts), with the gateway's (whether callbacks may use `http:`).
 */
export function loadWorkerConfig(env: Env, gateway: Pick<GatewayConfig, 'api'>): WorkerConfig {
  const parsed = parseEnv(WorkerEnvSchema, env)
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
      allowHttp: gateway.api.allowHttpCallbacks,
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
      queueUrl: parsed.POLLER_QUEUE_URL,
      workers: parsed.POLLER_WORKERS,
    },
    drift: { checkEveryMs: parsed.DRIFT_CHECK_MINUTES * 60_000 },
    dnssec: {
      serverOverrides: parsed.DNS_SERVER_OVERRIDES,
      lookup: parsed.DNS_LOOKUP,
      stuckAfterMs: parsed.DNSSEC_STUCK_HOURS * 3_600_000,
      bootstrapScans: parsed.DNSSEC_BOOTSTRAP_SCANS,
      trustAnchors: parsed.DNSSEC_TRUST_ANCHORS,
    },
    preflight: {
      unverified: parsed.PREFLIGHT_UNVERIFIED,
      timeoutMs: parsed.PREFLIGHT_TIMEOUT_MS,
      alibabaDnsServers: parsed.ALIBABA_DNS_NAME_SERVERS,
    },
    publication: {
      timeoutMs: parsed.PUBLICATION_TIMEOUT_MINUTES * 60_000,
      checkDelaysMs: parsed.PUBLICATION_CHECK_SECONDS,
      alibabaDnsServers: parsed.ALIBABA_DNS_NAME_SERVERS,
    },
    sync: { callbackUrl: parsed.SYNC_CALLBACK_URL, webhookSecret: parsed.SYNC_WEBHOOK_SECRET },
  }
}
