import type { Logger } from '../logger.ts'
import type { EndpointHealth, EndpointHealthStore } from './endpoint-health-store.ts'

export interface EndpointHealthSettings {
  /**
   * Failures in a row (no success between them, across all of the key's tasks to the endpoint)
   * before the endpoint as a whole is backed off; fewer only delay their own tasks' retries, so a
   * receiver with occasional errors is not slowed for everyone.
   */
  readonly failuresBeforeBackoff: number
  /** Backoff once it applies: base × 2^(failures beyond the threshold), at most `maxBackoffMs`. */
  readonly baseBackoffMs: number
  readonly maxBackoffMs: number
  /** An endpoint failing with no success for this long is disabled. */
  readonly disableAfterMs: number
}

export type EndpointVerdict =
  | { readonly kind: 'open' }
  | { readonly kind: 'backoff'; readonly until: number }
  | { readonly kind: 'disabled'; readonly since: string }

/** Whether a delivery to the endpoint may be attempted now. */
export function endpointVerdict(health: EndpointHealth | undefined, now: number): EndpointVerdict {
  if (!health) return { kind: 'open' }
  if (health.disabledAt) return { kind: 'disabled', since: health.disabledAt }
  if (health.backoffUntil !== undefined && health.backoffUntil > now) {
    return { kind: 'backoff', until: health.backoffUntil }
  }
  return { kind: 'open' }
}

/** The endpoint's state after a failed attempt: a longer backoff, and disabled once too long. */
export function afterFailure(
  health: EndpointHealth | undefined,
  keyId: string,
  endpoint: string,
  error: string | undefined,
  now: number,
  settings: EndpointHealthSettings,
): Omit<EndpointHealth, 'version'> {
  const failures = (health?.failures ?? 0) + 1
  const failingSince = health?.failingSince ?? new Date(now).toISOString()
  const beyond = failures - settings.failuresBeforeBackoff
  const backoffUntil =
    beyond < 0
      ? undefined
      : now + Math.min(settings.maxBackoffMs, settings.baseBackoffMs * 2 ** beyond)
  const tooLong = now - Date.parse(failingSince) >= settings.disableAfterMs
  return {
    keyId,
    endpoint,
    failures,
    failingSince,
    backoffUntil,
    disabledAt: health?.disabledAt ?? (tooLong ? new Date(now).toISOString() : undefined),
    lastError: error?.slice(0, 300),
  }
}

/**
 * Records a delivery's outcome on its endpoint, and returns the endpoint's state as written. A success clears a failing record (one write,
 * only when there is something to clear); a failure extends the backoff and, after
 * `disableAfterMs` of failures with no success, disables the endpoint — said by an error log
 * event `callback endpoint disabled`, which alarms can match. Losing a race is harmless: the
 * next outcome writes again.
 */
export async function recordEndpointOutcome(
  store: EndpointHealthStore,
  logger: Logger,
  keyId: string,
  endpoint: string,
  outcome: { readonly ok: boolean; readonly error?: string | undefined },
  now: number,
  settings: EndpointHealthSettings,
  /** The record as read just before the attempt, if it was: saves a read when nothing changes. */
  seen?: { readonly health: EndpointHealth | undefined },
): Promise<Omit<EndpointHealth, 'version'> | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    // The first try trusts what was read before sending; a lost write reads again.
    const health = attempt === 0 && seen ? seen.health : await store.get(keyId, endpoint)
    if (outcome.ok) {
      if (!health || health.disabledAt || health.failures === 0) return health
      const cleared = { keyId, endpoint, failures: 0 }
      if (await store.save(cleared, health.version)) return cleared
      continue
    }
    const next = afterFailure(health, keyId, endpoint, outcome.error, now, settings)
    if (await store.save(next, health?.version)) {
      if (next.disabledAt && !health?.disabledAt) {
        logger.error('callback endpoint disabled', {
          event: 'callback.endpoint.disabled',
          keyId,
          endpoint,
          failingSince: next.failingSince,
          failures: next.failures,
        })
      }
      return next
    }
  }
  return undefined
}
