import type { TaskLifeSettings } from '../tasks/task-life.ts'
import type { EndpointHealthSettings } from '../webhooks/endpoint-health.ts'

/** How the poller paces its work (a task's steps: see TaskLifeSettings). Every duration in milliseconds. */
export interface PollerSettings extends TaskLifeSettings {
  /** Identifies this run in leases. */
  readonly owner: string
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
  /** Tasks worked on at once. */
  readonly concurrency: number
  /** Due ids read per shard per round. */
  readonly batchSize: number
  /** Pause when nothing is due, before looking again. */
  readonly idleWaitMs: number
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
