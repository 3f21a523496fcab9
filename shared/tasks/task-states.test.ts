import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../test/helpers/settings.ts'
import { newTask, toFinal, toIntent, toQueued, toRejected, toResend } from './task-states.ts'

/** A task's states are pure functions of the task and the clock: no store, no timer. */
const AT = Date.UTC(2026, 11, 6, 12, 0, 0)
const DAY = 86_400_000
const deps = { settings: DEFAULTS.submit }
const request = {
  tenant: 'alpha',
  keyId: 'key1',
  command: { action: 'ds.sync' as const, domain: 'example.com' },
  callbackUrl: 'https://app.example.com/hooks' as string | undefined,
}
const task = newTask(request, 'tsk_1', AT)

describe('task states', () => {
  it('a new task waits to be sent or queued; as an intent it is submitting, with its send window', () => {
    expect(task).toMatchObject({
      status: 'queued',
      version: 1,
      details: [{ target: 'example.com', status: 'pending' }],
      callback: { url: request.callbackUrl, state: 'none', attempts: 0 },
    })
    const intent = toIntent(deps, task, AT + 5)
    expect(intent).toMatchObject({
      status: 'submitting',
      intentAt: AT + 5,
      sendBy: AT + 5 + DEFAULTS.submit.sendWindowMs,
      dueAt: AT + 5 + DEFAULTS.submit.reconcileDelayMs,
    })
    expect(task.status).toBe('queued')
  })

  it('queued with a ticket, and resent as queued at the head of its place, counted', () => {
    const queued = toQueued(deps, task, 'ticket-1', 'target-busy')
    expect(queued.queue).toEqual({
      ticket: 'ticket-1',
      reason: 'target-busy',
      since: task.createdAt,
      checks: 0,
    })
    const resent = toResend(toIntent(deps, task, AT), AT + 1_000)
    expect(resent).toMatchObject({
      status: 'queued',
      resends: 1,
      dueAt: AT + 1_000,
      intentAt: undefined,
    })
    expect(resent.queue?.reason).toBe('resend')
    expect(toResend(resent, AT + 2_000).resends).toBe(2)
  })

  it('final with a callback: due now, kept until delivered; without one: expires after the retention', () => {
    const told = toFinal(task, 'succeeded', AT, 30 * DAY)
    expect(told).toMatchObject({
      status: 'succeeded',
      dueAt: AT,
      expiresAt: undefined,
      callback: { state: 'scheduled', nextAttemptAt: new Date(AT).toISOString() },
      completedAt: new Date(AT).toISOString(),
    })
    const silent = toFinal(
      newTask({ ...request, callbackUrl: undefined }, 'tsk_2', AT),
      'failed',
      AT,
      DAY,
    )
    expect(silent).toMatchObject({
      status: 'failed',
      dueAt: undefined,
      callback: { state: 'none' },
    })
    expect(silent.expiresAt).toBe(Math.floor((AT + DAY) / 1000))
    // A task never announced (no 202) is not told, though it has a URL.
    const unannounced = toFinal(task, 'rejected', AT, DAY, { notify: false })
    expect(unannounced.callback).toEqual(task.callback)
    expect(unannounced.dueAt).toBeUndefined()
  })

  it('rejected: every detail failed with the error code, the error on the task', () => {
    const error = { code: 'NotSubmitted', message: 'nothing was sent' }
    const rejected = toRejected(task, AT, error, DAY, { extra: { lease: undefined } })
    expect(rejected).toMatchObject({
      status: 'rejected',
      error,
      details: [{ target: 'example.com', status: 'failed', error: 'NotSubmitted' }],
      callback: { state: 'scheduled' },
    })
  })
})
