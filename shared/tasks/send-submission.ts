/** Sending a submission upstream, in its turn, and writing what came of it: accepted, queued again, sent again, rejected. */
import { isGatewayFault, UpstreamError } from '../aliyun/upstream-error.ts'
import { toEpochSeconds } from '../epoch.ts'
import type { Logger } from '../logger.ts'
import { acceptedAnswer, answering, freesKey } from './submit-answer.ts'
import type { RenderOutcome, SendDeps, SubmitOutcome } from './submit-deps.ts'
import { submitToUpstream } from './submit-to-upstream.ts'
import { ticketOf } from './target-locks.ts'
import type { Task } from './task.ts'
import { delayAt, holdsAll, releaseTargets, type Turn, tryTakeTurn } from './task-queue.ts'
import {
  holdUntil,
  mayResend,
  rejectionOf,
  toIntent,
  toPending,
  toRejected,
  toResend,
} from './task-states.ts'

/**
 * Sends a `submitting` task (its intent written, its targets held) as its `Save*` action, once:
 * - a TaskNo: the task becomes `pending`; it keeps its targets until it is final;
 * - `TaskIsBeingProcessed` (a task started outside the gateway): `queued` again, still holding
 *   its targets, retried with backoff — nothing was done upstream;
 * - another refusal that proves nothing was done: `rejected`, targets released;
 * - an ambiguous outcome: left `submitting` for the reconciler, which looks it up instead of
 *   resubmitting; the targets stay held.
 * The outcome is written task first, so a stored answer never names a TaskNo its task lacks.
 */
export async function sendSubmission(
  deps: SendDeps,
  task: Task,
  options: {
    /** The caller was already answered (a queued task): a refusal is told by webhook. */
    readonly announced?: boolean
    /** A keyed request's answer to each outcome, written on the task with the outcome. */
    readonly answer?: RenderOutcome | undefined
  } = {},
): Promise<SubmitOutcome> {
  const taskId = task.id
  let result: Awaited<ReturnType<typeof submitToUpstream>>
  try {
    result = await submitToUpstream(deps.upstream, task.command, task.sendBy as number)
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error
    if (error.retryability === 'ambiguous') {
      deps.logger.warn('upstream outcome unknown; task left submitting for the reconciler', {
        taskId,
        action: error.action,
        code: error.code,
      })
      return { kind: 'accepted', task }
    }
    if (error.code === 'TaskIsBeingProcessed') return requeueBusy(deps, task, options.answer)
    if (task.accepted && mayResend(task, error)) return resend(deps, task, error.code)
    logRefusal(deps.logger, taskId, error)
    const rejected = await rejectTask(deps, task, error, {
      announced: options.announced === true,
      answer: options.answer,
    })
    await releaseTargets(queueDeps(deps), rejected)
    return { kind: 'rejected', task: rejected, error }
  }

  const at = deps.now()
  const upstream = { taskNo: result.taskNo, requestId: result.requestId }
  const pending = (current: Task) =>
    toPending(current, upstream, at, deps.settings.firstPollDelayMs)
  const answer = options.answer
  // The TaskNo's owner first, then the task: a task never records a TaskNo the registry does not
  // name it the owner of, so no reconciler can hand that TaskNo to another task. If the claim
  // cannot be written, the task stays `submitting` and its own reconciler adopts the TaskNo
  // through the same claim (which names this task, so it succeeds).
  const owned = await deps.taskNos.claim(
    result.taskNo,
    taskId,
    toEpochSeconds(at + deps.settings.taskRetentionMs),
  )
  const recorded = await recordOutcome(deps, task, answering(pending, acceptedAnswer(answer)))
  if (!owned) {
    deps.logger.error('the TaskNo is recorded as owned by another task', {
      taskId,
      taskNo: result.taskNo,
    })
  }
  if (recorded.upstream.taskNo !== result.taskNo) {
    // Only a broken clock or timestamp window could let the reconciler call this task absent.
    deps.logger.error('the registry created a task for a submission already settled', {
      taskId,
      taskNo: result.taskNo,
      status: recorded.status,
    })
  } else {
    deps.logger.info('task submitted', { taskId, taskNo: result.taskNo, action: task.action })
  }
  return { kind: 'accepted', task: recorded }
}

export const queueDeps = (deps: SendDeps) => ({
  tasks: deps.tasks,
  targetLocks: deps.targetLocks,
  now: deps.now,
  logger: deps.logger,
  queue: deps.settings.queue,
  nudgeChange: deps.nudgeChange,
})

/** `TaskIsBeingProcessed`: wait for the registry's other task, holding the targets meanwhile. */
async function requeueBusy(
  deps: SendDeps,
  task: Task,
  answer: RenderOutcome | undefined,
): Promise<SubmitOutcome> {
  const at = deps.now()
  const checks = task.queue?.reason === 'upstream-busy' ? task.queue.checks + 1 : 0
  deps.logger.info('the registry is busy with another task for the target; queued', {
    taskId: task.id,
    retries: checks,
  })
  const requeued = (current: Task): Task => ({
    ...current,
    status: 'queued',
    accepted: true,
    queue: {
      ticket: ticketOf(Date.parse(current.createdAt), 0, current.id, current.tenant),
      reason: 'upstream-busy',
      since: current.queue?.since ?? new Date(at).toISOString(),
      checks,
    },
    updatedAt: new Date(at).toISOString(),
    dueAt: at + delayAt(deps.settings.queue.busyRetryDelaysMs, checks),
    lease: undefined,
  })
  const queued = await recordOutcome(deps, task, answering(requeued, acceptedAnswer(answer)))
  return { kind: 'accepted', task: queued }
}

/**
 * An accepted task proven never sent: queued again to be sent with a fresh intent in its turn,
 * keeping the targets it holds (it is still the one allowed to send for them).
 */
export async function resend(deps: SendDeps, task: Task, reason: string): Promise<SubmitOutcome> {
  const at = deps.now()
  deps.logger.warn('an accepted task never reached the registry; sending it again', {
    taskId: task.id,
    reason,
    resends: (task.resends ?? 0) + 1,
  })
  const again = await recordOutcome(deps, task, (current) => toResend(current, at))
  return { kind: 'accepted', task: again }
}

/**
 * A queued task's turn: when it is the head of every target's queue and the targets are free —
 * or it holds them already (`upstream-busy`, `resend`) — it writes its intent (`submitting`, a new
 * `sendBy`) and is sent as the API sends. Otherwise answers where it waits; `lost` when another
 * writer moved the task first.
 */
export async function sendInTurn(
  deps: SendDeps,
  held: Task,
): Promise<SubmitOutcome | Exclude<Turn, 'taken'> | 'lost'> {
  const intentAt = deps.now()
  const holding = held.queue?.reason === 'upstream-busy' || held.queue?.reason === 'resend'
  if (!holding || !(await holdsAll(deps.targetLocks, held))) {
    const turn = await tryTakeTurn(queueDeps(deps), held, holdUntil(deps, intentAt))
    if (turn !== 'taken') return turn
  }
  const intent = toIntent(deps, held, intentAt)
  // The intent may be ours though its write reads as lost — made, its answer lost, and the task
  // written again (a poller's claim once the intent made it due) before the SDK's retry met it —
  // or failed after the SDK's last attempt. Its clock reading tells it apart; then it is sent now,
  // as it would have been: the poller that holds it meanwhile only looks upstream, and the outcome
  // known here is written over it.
  let made = false
  let failed: { error: unknown } | undefined
  try {
    made = await deps.tasks.replace(intent, held.version)
  } catch (error) {
    failed = { error }
  }
  if (made) {
    return sendSubmission(deps, { ...intent, version: held.version + 1 }, { announced: true })
  }
  const found = await deps.tasks.get(held.id, deps.now())
  if (
    found?.status === 'submitting' &&
    found.intentAt === intent.intentAt &&
    found.sendBy === intent.sendBy
  ) {
    return sendSubmission(deps, found, { announced: true })
  }
  if (failed) throw failed.error
  // Someone else moved the task: it keeps the targets only if it is still ours to send.
  deps.logger.warn('lost a task update race', { taskId: held.id })
  return 'lost'
}

/** Operators get the whole upstream message (the logger redacts key ids); tenants do not. */
function logRefusal(logger: Logger, taskId: string, error: UpstreamError): void {
  const fields = { taskId, action: error.action, code: error.code, detail: error.upstreamMessage }
  if (error.notSent) {
    if (error.code === 'ClockSkewTooLarge') logger.error('nothing was sent upstream', fields)
    else logger.warn('nothing was sent upstream', fields)
  } else if (isGatewayFault(error.code)) {
    logger.error("Alibaba Cloud refused the gateway's credentials, clock or signature", fields)
  } else {
    logger.info('upstream refused the submission', fields)
  }
}

/**
 * Writes the submission's outcome onto a `submitting` task. A poller may hold a lease on it (the
 * reconciler looks at submissions still open after a while): the outcome known here wins, so the
 * write is retried on the version found, for as long as the task is still `submitting`.
 */
export async function recordOutcome(
  deps: SendDeps,
  task: Task,
  next: (current: Task) => Task,
): Promise<Task> {
  let current = task
  for (let attempt = 0; attempt < 5; attempt++) {
    const wanted = next(current)
    if (await deps.tasks.replace(wanted, current.version)) {
      return { ...wanted, version: current.version + 1 }
    }
    const found = await deps.tasks.get(task.id, deps.now())
    if (!found) return wanted
    if (found.status !== 'submitting') return found
    deps.logger.warn('task changed while submitting; writing the outcome again', {
      taskId: task.id,
    })
    current = found
  }
  return (await deps.tasks.get(task.id, deps.now())) ?? next(current)
}

async function rejectTask(
  deps: SendDeps,
  task: Task,
  error: UpstreamError,
  options: {
    readonly announced: boolean
    /** A keyed request's answer; not kept for a refusal that frees the key. */
    readonly answer?: RenderOutcome | undefined
  },
): Promise<Task> {
  const at = deps.now()
  const rejection = rejectionOf(error)
  const notify = options.announced && Boolean(task.callback.url)
  // A keyed request refused in a way that proves nothing done frees its key: the task says so,
  // and no answer is kept, so the same request may be sent again with the key.
  const freed = options.answer !== undefined && freesKey(error)
  const answer = freed ? undefined : options.answer
  const rejectedState = (current: Task): Task =>
    toRejected(current, at, rejection, deps.settings.taskRetentionMs, {
      notify,
      extra: {
        lease: undefined,
        ...(freed && current.idempotency
          ? { idempotency: { ...current.idempotency, freed: true } }
          : {}),
      },
    })
  return recordOutcome(
    deps,
    task,
    answering(
      rejectedState,
      answer && ((current) => answer({ kind: 'rejected', task: current, error })),
    ),
  )
}
