/** A task's states as pure functions of the task and the clock: new, intent, queued, resent, final, rejected. */
import { tenantMessage, type UpstreamError } from '../aliyun/upstream-error.ts'
import { toEpochSeconds } from '../epoch.ts'
import { QueueFullError } from '../errors.ts'
import type { SendDeps, SubmitRequest } from './submit-deps.ts'
import { ticketOf } from './target-locks.ts'
import { type QueueReason, type Task, type TaskStatus, targetsOf } from './task.ts'
import { delayAt } from './task-queue.ts'

export function queueFull(deps: Pick<SendDeps, 'settings'>, target: string): QueueFullError {
  return new QueueFullError(
    target,
    // About the time a queue needs to move on by one or two tasks.
    Math.max(1, Math.ceil(delayAt(deps.settings.queue.recheckDelaysMs, 1) / 1000)),
  )
}

/** A task waiting in its targets' queues with `ticket`. */
export function toQueued(
  deps: Pick<SendDeps, 'settings'>,
  task: Task,
  ticket: string,
  reason: QueueReason,
): Task {
  return {
    ...task,
    status: 'queued',
    queue: { ticket, reason, since: task.createdAt, checks: 0 },
    // Looked at soon (it may be the head already); a release ahead of it wakes it sooner.
    dueAt: Date.parse(task.createdAt) + delayAt(deps.settings.queue.headRecheckDelaysMs, 0),
    lease: undefined,
  }
}

/** Until when a holder's submission may still reach the registry unseen (see the lock store). */
export function holdUntil(deps: Pick<SendDeps, 'settings'>, intentAt: number): number {
  return intentAt + deps.settings.sendWindowMs + deps.settings.absenceAfterSendByMs
}

/** A task as the intent to send it now: `submitting`, with its send window. */
export function toIntent(deps: Pick<SendDeps, 'settings'>, task: Task, intentAt: number): Task {
  return {
    ...task,
    status: 'submitting',
    queue: undefined,
    intentAt,
    sendBy: intentAt + deps.settings.sendWindowMs,
    // Due for the reconciler in case this process stops before recording the outcome.
    dueAt: intentAt + deps.settings.reconcileDelayMs,
    pollCount: 0,
    lease: undefined,
  }
}

/** Sends of an accepted task proven never to have reached the registry, before it is given up. */
export const MAX_RESENDS = 5

/**
 * Whether an accepted task whose attempt provably never reached the registry is sent again: only
 * when the reason is time (its send window passed in a stalled process, or the service found the
 * signed timestamp too old), not a clock the gateway must fix first, and only a few times.
 */
export function mayResend(task: Task, error: UpstreamError): boolean {
  return (
    error.neverReachedService &&
    error.code !== 'ClockSkewTooLarge' &&
    (task.resends ?? 0) < MAX_RESENDS
  )
}

/** The state of an accepted task to be sent again: queued (`resend`), due now. */
export function toResend(task: Task, at: number): Task {
  return {
    ...task,
    status: 'queued',
    queue: {
      ticket: ticketOf(Date.parse(task.createdAt), 0, task.id, task.tenant),
      reason: 'resend',
      since: task.queue?.since ?? new Date(at).toISOString(),
      checks: 0,
    },
    intentAt: undefined,
    sendBy: undefined,
    resends: (task.resends ?? 0) + 1,
    updatedAt: new Date(at).toISOString(),
    dueAt: at,
    lease: undefined,
  }
}

/** A new task as accepted, before it is either sent or queued. */
/** A task the registry accepted: `pending` under its TaskNo, first polled after `firstPollDelayMs`. */
export function toPending(
  task: Task,
  upstream: NonNullable<Task['upstream']>,
  at: number,
  firstPollDelayMs: number,
): Task {
  return {
    ...task,
    status: 'pending',
    accepted: true,
    upstream,
    updatedAt: new Date(at).toISOString(),
    dueAt: at + firstPollDelayMs,
    lease: undefined,
  }
}

export function newTask(
  request: Omit<SubmitRequest, 'idempotency'>,
  id: string,
  now: number,
  extra: Pick<Task, 'changeId' | 'after' | 'idempotency' | 'accepted' | 'intentNonce'> = {},
): Task {
  const iso = new Date(now).toISOString()
  return {
    id,
    tenant: request.tenant,
    keyId: request.keyId,
    action: request.command.action,
    status: 'queued',
    version: 1,
    command: request.command,
    upstream: {},
    details: targetsOf(request.command).map((target) => ({ target, status: 'pending' })),
    callback: { url: request.callbackUrl, state: 'none', attempts: 0 },
    createdAt: iso,
    updatedAt: iso,
    pollCount: 0,
    ...(request.safety ? { safety: request.safety } : {}),
    ...extra,
  }
}

/** The error a task records when a submission is refused; an unsent one is `NotSubmitted`. */
export function rejectionOf(error: UpstreamError) {
  if (error.neverReachedService) {
    return {
      code: 'NotSubmitted',
      message:
        error.code === 'ClockSkewTooLarge'
          ? "The gateway's clock is too far from Alibaba Cloud's; nothing was sent."
          : 'The request could not be sent in time; nothing was sent upstream.',
    }
  }
  return { code: error.code, message: tenantMessage(error) }
}

/** How a final task is told and kept. */
export interface FinalOptions {
  /** Whether its callback is sent (default: when it has a callback URL). */
  readonly notify?: boolean | undefined
  /** Fields set with the final status (its error, a freed key…). */
  readonly extra?: Partial<Task> | undefined
}

/**
 * A task that has just reached a final status — the one place a task becomes final: its callback
 * due now when it is to be told, else it is kept until `retentionMs` from now and then expires.
 */
export function toFinal(
  task: Task,
  status: TaskStatus,
  at: number,
  retentionMs: number,
  options: FinalOptions = {},
): Task {
  const iso = new Date(at).toISOString()
  const notify = options.notify ?? Boolean(task.callback.url)
  return {
    ...task,
    ...options.extra,
    status,
    updatedAt: iso,
    completedAt: iso,
    ...(notify
      ? {
          dueAt: at,
          callback: { ...task.callback, state: 'scheduled' as const, nextAttemptAt: iso },
          expiresAt: undefined,
        }
      : {
          dueAt: undefined,
          // A task that has no callback says so; one that is not to be told keeps what it had.
          callback: task.callback.url
            ? task.callback
            : { ...task.callback, state: 'none' as const },
          expiresAt: toEpochSeconds(at + retentionMs),
        }),
  }
}

/** A task rejected without reaching the registry: every detail failed with the error's code. */
export function toRejected(
  task: Task,
  at: number,
  error: { readonly code: string; readonly message: string },
  retentionMs: number,
  options: FinalOptions = {},
): Task {
  const details = task.details.map((detail) => ({
    ...detail,
    status: 'failed' as const,
    error: error.code,
  }))
  return toFinal({ ...task, details }, 'rejected', at, retentionMs, {
    ...options,
    extra: { ...options.extra, error },
  })
}
