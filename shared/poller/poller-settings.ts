import type { EndpointHealthSettings } from '../webhooks/endpoint-health.ts'

/** How the poller paces its work. Every duration in milliseconds. */
export interface PollerSettings {
  /** Identifies this run in leases. */
  readonly owner: string
  /** How long a claimed task is reserved for this run. */
  readonly leaseMs: number
  /** Delay before the n-th status poll (the last value repeats). */
  readonly pollDelaysMs: readonly number[]
  /** A task still unfinished after this long becomes `unknown`. */
  readonly maxTaskAgeMs: number
  /**
   * The absence proof's terms: the submission's send window (for intents that carry no `sendBy`),
   * the service's timestamp window, the clock-skew bound the client enforces, and a margin for
   * the service's own processing and listing delay. See `absenceProvableAfter`.
   */
  readonly sendWindowMs: number
  readonly timestampWindowMs: number
  readonly maxClockSkewMs: number
  readonly absenceMarginMs: number
  /** Delay between reconciliation attempts. */
  readonly reconcileRetryMs: number
  /**
   * An upstream task is adopted only once it is this old, so a submission still on its way back
   * with that TaskNo has recorded it first (at least the upstream timeout).
   */
  readonly candidateSettleMs: number
  /** Delay before each callback retry after the first attempt (Standard Webhooks schedule). */
  readonly callbackRetryDelaysMs: readonly number[]
  /** ± share of each callback delay picked at random. */
  readonly callbackJitter: number
  /** Bounds for a receiver's `Retry-After`. */
  readonly retryAfterMinMs: number
  readonly retryAfterMaxMs: number
  readonly callbackTimeoutMs: number
  /** Deliveries in flight at once in one run, and at most this many to one endpoint (origin). */
  readonly callbackConcurrency: number
  readonly callbackPerEndpoint: number
  /** Deliveries of one tenant in flight at once in one run: the others keep lanes. */
  readonly callbackPerTenant: number
  /** How a failing endpoint is backed off as a whole, and when it is disabled. */
  readonly endpointHealth: EndpointHealthSettings
  readonly taskRetentionMs: number
  /** Tasks worked on at once. */
  readonly concurrency: number
  /** Due ids read per shard per round. */
  readonly batchSize: number
  /** Pause when nothing is due, before looking again. */
  readonly idleWaitMs: number
}

export function pollDelay(settings: PollerSettings, pollCount: number): number {
  const delays = settings.pollDelaysMs
  return delays[Math.min(pollCount, delays.length - 1)] as number
}

/** The delay before callback retry `retry` (0-based), jittered; undefined when retries are spent. */
export function callbackRetryDelay(
  settings: PollerSettings,
  retry: number,
  random: () => number,
): number | undefined {
  const base = settings.callbackRetryDelaysMs[retry]
  if (base === undefined) return undefined
  const spread = base * settings.callbackJitter
  return Math.round(base - spread + random() * 2 * spread)
}
