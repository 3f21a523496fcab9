/**
 * A callback's states as pure functions: in flight, stopped by a disabled endpoint, and what one
 * attempt's result makes of it (delivered, final, or scheduled again and when).
 */
import { iso } from '../epoch.ts'
import type { TaskCallback } from '../tasks/task.ts'
import type { SendResult } from './send-webhook.ts'

/** The callback with one more attempt in flight since `at`. */
export function toSending(callback: TaskCallback, at: number): TaskCallback {
  return { ...callback, state: 'sending', attempts: callback.attempts + 1, lastAttemptAt: iso(at) }
}

/** The callback stopped because its endpoint is disabled (the admin re-enables it). */
export function toDisabled(callback: TaskCallback, endpoint: string, since: string): TaskCallback {
  return {
    ...callback,
    state: 'disabled',
    nextAttemptAt: undefined,
    lastError: `the endpoint ${endpoint} is disabled since ${since}`,
  }
}

/** How long a failed attempt waits for the next. */
export interface RetryPolicy {
  /** The schedule's wait before the next attempt (jitter applied); undefined: no attempt left. */
  readonly scheduledDelayMs: number | undefined
  /** The bounds put on a receiver's `Retry-After`, which replaces the schedule's wait. */
  readonly retryAfterMinMs: number
  readonly retryAfterMaxMs: number
}

export interface NextCallback {
  readonly callback: TaskCallback
  /** When the next attempt is due; undefined when the callback is final. */
  readonly dueAt: number | undefined
}

/**
 * The callback after an attempt that ended at `at`: delivered; gone (410) or blocked by the
 * address policy, final at once; otherwise scheduled again — after the receiver's `Retry-After`
 * (within bounds) or the schedule's wait — or exhausted when the schedule has no attempt left.
 */
export function nextCallbackState(
  callback: TaskCallback,
  result: Pick<SendResult, 'outcome' | 'error' | 'retryAfterMs'>,
  at: number,
  policy: RetryPolicy,
): NextCallback {
  if (result.outcome === 'delivered') {
    return {
      callback: {
        ...callback,
        state: 'delivered',
        deliveredAt: iso(at),
        nextAttemptAt: undefined,
        lastError: undefined,
      },
      dueAt: undefined,
    }
  }
  const final = { ...callback, nextAttemptAt: undefined, lastError: result.error }
  if (result.outcome === 'gone' || result.outcome === 'blocked') {
    return { callback: { ...final, state: result.outcome }, dueAt: undefined }
  }
  if (policy.scheduledDelayMs === undefined) {
    return { callback: { ...final, state: 'exhausted' }, dueAt: undefined }
  }
  const wait =
    result.retryAfterMs === undefined
      ? policy.scheduledDelayMs
      : Math.min(policy.retryAfterMaxMs, Math.max(policy.retryAfterMinMs, result.retryAfterMs))
  const dueAt = at + wait
  return {
    callback: {
      ...callback,
      state: 'scheduled',
      nextAttemptAt: iso(dueAt),
      lastError: result.error,
    },
    dueAt,
  }
}

/** The callback sent again from `at` (same webhook id and body): redelivery and recovery. */
export function toRedelivery(callback: TaskCallback, at: number): TaskCallback {
  return { ...callback, state: 'scheduled', nextAttemptAt: iso(at) }
}

/** A task or event whose callback is sent again from `at`: due then, and kept until it is sent. */
export function dueForRedelivery(callback: TaskCallback, at: number) {
  return { callback: toRedelivery(callback, at), dueAt: at, expiresAt: undefined }
}

/** States a recovery sends again: every retry failed, or its endpoint was disabled meanwhile. */
export const RECOVERABLE_STATES: ReadonlySet<TaskCallback['state']> = new Set([
  'exhausted',
  'disabled',
])
