import { describe, expect, it } from 'vitest'
import type { TaskCallback } from '../tasks/task.ts'
import { nextCallbackState, toDisabled, toSending } from './callback-states.ts'

const AT = Date.parse('2026-12-06T10:00:00Z')
const sending: TaskCallback = {
  url: 'https://app.example.com/hooks',
  state: 'sending',
  attempts: 2,
  lastAttemptAt: '2026-12-06T09:59:59.000Z',
  nextAttemptAt: '2026-12-06T09:59:59.000Z',
  lastError: 'HTTP 500',
}
const policy = { scheduledDelayMs: 300_000, retryAfterMinMs: 1_000, retryAfterMaxMs: 3_600_000 }

describe('a callback attempt as a state change', () => {
  it('starts an attempt: sending, one more attempt, when', () => {
    const scheduled = { ...sending, state: 'scheduled' as const }
    expect(toSending(scheduled, AT)).toEqual({
      ...scheduled,
      state: 'sending',
      attempts: 3,
      lastAttemptAt: '2026-12-06T10:00:00.000Z',
    })
  })

  it('delivered: final, the error of an earlier attempt cleared', () => {
    expect(nextCallbackState(sending, { outcome: 'delivered' }, AT, policy)).toEqual({
      callback: {
        ...sending,
        state: 'delivered',
        deliveredAt: '2026-12-06T10:00:00.000Z',
        nextAttemptAt: undefined,
        lastError: undefined,
      },
      dueAt: undefined,
    })
  })

  it.each(['gone', 'blocked'] as const)(
    '%s: final at once, whatever the schedule has left',
    (outcome) => {
      const next = nextCallbackState(sending, { outcome, error: 'no' }, AT, policy)
      expect(next).toEqual({
        callback: { ...sending, state: outcome, nextAttemptAt: undefined, lastError: 'no' },
        dueAt: undefined,
      })
    },
  )

  it("failed: scheduled after the schedule's wait, or the receiver's Retry-After within bounds", () => {
    const failed = { outcome: 'failed' as const, error: 'HTTP 503' }
    expect(nextCallbackState(sending, failed, AT, policy)).toEqual({
      callback: {
        ...sending,
        state: 'scheduled',
        nextAttemptAt: '2026-12-06T10:05:00.000Z',
        lastError: 'HTTP 503',
      },
      dueAt: AT + 300_000,
    })
    expect(nextCallbackState(sending, { ...failed, retryAfterMs: 20_000 }, AT, policy).dueAt).toBe(
      AT + 20_000,
    )
    expect(nextCallbackState(sending, { ...failed, retryAfterMs: 10 }, AT, policy).dueAt).toBe(
      AT + 1_000,
    )
    expect(
      nextCallbackState(sending, { ...failed, retryAfterMs: 86_400_000 }, AT, policy).dueAt,
    ).toBe(AT + 3_600_000)
  })

  it('failed with no attempt left in the schedule: exhausted, even with a Retry-After', () => {
    const next = nextCallbackState(
      sending,
      { outcome: 'failed', error: 'timeout', retryAfterMs: 5_000 },
      AT,
      { ...policy, scheduledDelayMs: undefined },
    )
    expect(next).toEqual({
      callback: { ...sending, state: 'exhausted', nextAttemptAt: undefined, lastError: 'timeout' },
      dueAt: undefined,
    })
  })

  it('a disabled endpoint stops the callback and says since when', () => {
    expect(toDisabled(sending, 'https://app.example.com', '2026-12-01T00:00:00.000Z')).toEqual({
      ...sending,
      state: 'disabled',
      nextAttemptAt: undefined,
      lastError: 'the endpoint https://app.example.com is disabled since 2026-12-01T00:00:00.000Z',
    })
  })
})
