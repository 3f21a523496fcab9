import { isGatewayFault, tenantMessage, UpstreamError } from '../aliyun/upstream-error.ts'
import { toEpochSeconds } from '../epoch.ts'
import { IdempotencyInFlightError, IdempotencyKeyReuseError, QueueFullError } from '../errors.ts'
import { keyedTaskId } from '../ids.ts'
import type { Logger } from '../logger.ts'
import { submitToUpstream, type TaskSubmitter } from './submit-to-upstream.ts'
import { acquireAll, releaseAll, type TargetLockStore, ticketOf } from './target-locks.ts'
import {
  isTerminal,
  type QueueReason,
  type StoredAnswer,
  type Task,
  type TaskCommand,
  targetsOf,
} from './task.ts'
import {
  DEFAULT_QUEUE_SETTINGS,
  delayAt,
  enqueueAll,
  holdsAll,
  type QueueSettings,
  releaseTargets,
  type Turn,
  tryTakeTurn,
} from './task-queue.ts'
import type { TaskNoRegistry, TaskStore } from './task-store.ts'

export interface SubmitSettings {
  /**
   * How long a first request holds its Idempotency-Key before another request with the key may
   * be answered from its task as it stands (until then: 409). The key itself is kept as long as
   * its task (`taskRetentionMs` after it ends).
   */
  readonly idempotencyLockMs: number
  /** First status poll after acceptance. */
  readonly firstPollDelayMs: number
  /** When the reconciler first looks at a submission whose outcome is unknown. */
  readonly reconcileDelayMs: number
  /**
   * Attempts are signed and sent only until this long after the intent's creation time (the task's
   * `sendBy`). Not a bound on how fast anything must be: an attempt after it is simply not made,
   * and is then proven unsent. It bounds how long the reconciler waits before it may call a
   * submission absent (`sendBy` + the service's timestamp window + clock skew).
   */
  readonly sendWindowMs: number
  /**
   * From `sendBy` to the moment absence is provable (the service's timestamp window + the skew
   * bound + the margin): how long a target lock outlives its holder at most.
   */
  readonly absenceAfterSendByMs: number
  readonly taskRetentionMs: number
  readonly queue: QueueSettings
}

export const DEFAULT_SUBMIT_SETTINGS: SubmitSettings = {
  idempotencyLockMs: 90_000,
  firstPollDelayMs: 2_000,
  reconcileDelayMs: 30_000,
  sendWindowMs: 60_000,
  absenceAfterSendByMs: 900_000 + 30_000 + 60_000,
  taskRetentionMs: 30 * 86_400_000,
  queue: DEFAULT_QUEUE_SETTINGS,
}

export interface SubmitDeps {
  readonly tasks: TaskStore
  readonly taskNos: TaskNoRegistry
  readonly upstream: TaskSubmitter
  /** Who holds each domain or instance, and who waits for it (see target-lock-store.ts). */
  readonly targetLocks: TargetLockStore
  /** Wakes the change a final task is a step of (see changes/apply-change.ts). */
  readonly nudgeChange?: ((changeId: string, at: number) => Promise<void>) | undefined
  readonly now: () => number
  readonly newTaskId: () => string
  readonly logger: Logger
  readonly settings: SubmitSettings
  /** Test seams for crash injection: after the intent is written, before the targets are taken… */
  readonly beforeTakingTargets?: (task: Task) => Promise<void>
  /** …after the targets are taken, before the upstream call… */
  readonly beforeUpstreamCall?: (task: Task) => Promise<void>
  /** …and after the upstream call, before its outcome is written. */
  readonly afterUpstreamCall?: (task: Task) => Promise<void>
}

/** What sending a task needs (the poller sends queued tasks with it too). */
export type SendDeps = Omit<SubmitDeps, 'newTaskId'>

export interface SubmitRequest {
  readonly tenant: string
  readonly keyId: string
  readonly command: TaskCommand
  readonly callbackUrl: string | undefined
  readonly idempotency?: { readonly key: string; readonly requestHash: string } | undefined
}

export type SubmitOutcome =
  | { readonly kind: 'accepted'; readonly task: Task }
  | { readonly kind: 'rejected'; readonly task: Task; readonly error: UpstreamError }

/** Turns an outcome into the HTTP response to send (and to replay for the same key). */
export type RenderOutcome = (outcome: SubmitOutcome) => StoredAnswer

export interface SubmitResult extends StoredAnswer {
  /** True when this is the stored answer to an earlier request with the same key. */
  readonly replayed: boolean
}

/** Errors after which the same request may succeed later, so its key is freed for a retry. */
function freesKey(error: UpstreamError): boolean {
  return error.provesNothingDone
}

/**
 * Submits a command to the registry without ever submitting it twice by accident:
 * 1. write the task as `submitting` (the intent) with its `sendBy`, before anything else. With an
 *    Idempotency-Key the task's id is derived from the key, so this one conditional write is also
 *    the key's claim; a request that finds the key's task answers from it (see {@link fromKeyed});
 * 2. take the command's domains (or instance) — free and with nobody waiting — or, when another
 *    of the gateway's tasks holds one, turn the intent into `queued` with a ticket in each
 *    target's queue and answer at once; the poller sends it in its turn (see task-queue.ts);
 * 3. call the `Save*` action once (see {@link sendSubmission}).
 * A task is sent only while it holds every target, and a target held by a task that is not final
 * is never given to another; so a `submitting` task that does not hold its targets was never
 * sent, which is what the reconciler checks before it looks upstream for one (a process that
 * stopped between its intent and the targets leaves exactly that).
 */
export async function submitTask(
  deps: SubmitDeps,
  request: SubmitRequest,
  render: RenderOutcome,
): Promise<SubmitResult> {
  const keyed = request.idempotency
  // The intent's clock reading is taken before any write, so `sendBy` is never later than the
  // reconciler (or a target's holder check) can assume from the stored item.
  const intentAt = deps.now()
  const taskId = keyed ? keyedTaskId(request.tenant, keyed.key) : deps.newTaskId()
  let task = asIntent(
    deps,
    newTask(
      request,
      taskId,
      intentAt,
      keyed ? { idempotency: { requestHash: keyed.requestHash } } : {},
    ),
    intentAt,
  )
  if (keyed) {
    const claimed = await deps.tasks.createOrGet(task, intentAt)
    if (!claimed.created) {
      const found = await fromKeyed(deps, claimed.existing, task, render)
      if (found.kind === 'answer') return found.answer
      task = found.task
    }
  } else if (!(await deps.tasks.create(task))) {
    throw new Error(`task id ${taskId} is already taken`)
  }
  await deps.beforeTakingTargets?.(task)
  // With a key, the answer is written on the task with its outcome: no separate write for it.
  const answer = keyed ? render : undefined
  const targets = targetsOf(request.command)
  let held: boolean
  try {
    held = await acquireAll(deps.targetLocks, targets, taskId, holdUntil(deps, intentAt))
  } catch (error) {
    // Nothing was sent: take the intent back, so a retry (with the same key) starts afresh.
    await releaseAll(deps.targetLocks, targets, taskId).catch(() => undefined)
    await deps.tasks.remove(taskId, task.version).catch(() => false)
    throw error
  }
  if (!held) {
    const queued = await queueIntent(deps, task, answer)
    return { ...(queued.answer ?? render({ kind: 'accepted', task: queued })), replayed: false }
  }
  const outcome = await sendSubmission(deps, task, { answer })
  // The task records the key as freed: the same request may be sent again with it.
  if (outcome.task.idempotency?.freed) return { ...render(outcome), replayed: false }
  if (outcome.task.answer) return { ...outcome.task.answer, replayed: false }
  if (outcome.kind === 'accepted' && outcome.task.status === 'submitting') {
    // The outcome is unknown, and the answer is 202: the task is marked accepted first, so if it
    // proves never sent it is sent again rather than handed back (with a key: its answer too).
    const marked = await recordOutcome(
      deps,
      outcome.task,
      answering((current) => ({ ...current, accepted: true }), acceptedAnswer(answer)),
    )
    if (marked.answer) return { ...marked.answer, replayed: false }
    return { ...render({ kind: 'accepted', task: marked }), replayed: false }
  }
  return { ...render(outcome), replayed: false }
}

/**
 * A keyed request whose key already names a task: another request with the key → 422; the stored
 * answer → replayed; the first request still running → 409; a key freed by a refusal that proved
 * nothing done → the task is taken over for this request (a fresh intent at its next version);
 * a first request that stopped without an answer → answered with its task as it stands (it may
 * have reached the registry: never resubmitted).
 */
async function fromKeyed(
  deps: SubmitDeps,
  existing: Task,
  intent: Task,
  render: RenderOutcome,
): Promise<{ kind: 'answer'; answer: SubmitResult } | { kind: 'task'; task: Task }> {
  const now = deps.now()
  if (existing.idempotency?.requestHash !== intent.idempotency?.requestHash) {
    throw new IdempotencyKeyReuseError()
  }
  if (existing.answer) return { kind: 'answer', answer: { ...existing.answer, replayed: true } }
  if (existing.status === 'rejected' && existing.idempotency?.freed) {
    const fresh = { ...intent, version: existing.version }
    if (!(await deps.tasks.replace(fresh, existing.version))) throw new IdempotencyInFlightError(1)
    return { kind: 'task', task: { ...fresh, version: existing.version + 1 } }
  }
  const heldUntil = Date.parse(existing.createdAt) + deps.settings.idempotencyLockMs
  if (heldUntil > now) {
    throw new IdempotencyInFlightError(Math.max(1, Math.ceil((heldUntil - now) / 1000)))
  }
  // The first request stopped without an answer: this one is answered with the task as it stands
  // (202 while it is open), written on the task with the mark that it was accepted, so a task that
  // then proves never sent is sent again. A lost race is read again and answered from there.
  let current: Task | undefined = existing
  for (let attempt = 0; current && attempt < 3; attempt++) {
    if (current.answer) return { kind: 'answer', answer: { ...current.answer, replayed: true } }
    if (current.idempotency?.freed) break
    const response = render({ kind: 'accepted', task: current })
    const open = !isTerminal(current.status)
    const marked = { ...current, answer: response, ...(open ? { accepted: true } : {}) }
    if (await deps.tasks.replace(marked, current.version).catch(() => false)) {
      return { kind: 'answer', answer: { ...response, replayed: true } }
    }
    current = await deps.tasks.get(existing.id, deps.now())
  }
  throw new IdempotencyInFlightError(1)
}

/**
 * An intent whose targets are busy becomes `queued`: a ticket in every target's queue first, then
 * the task (it was never sent, so dropping its intent is safe). A full queue throws
 * {@link QueueFullError} and takes the intent back, so nothing is left of the request.
 */
async function queueIntent(
  deps: SubmitDeps,
  task: Task,
  answer: RenderOutcome | undefined,
): Promise<Task> {
  const ticket = ticketOf(Date.parse(task.createdAt), 0, task.id, task.tenant)
  const full = await enqueueAll(
    deps.targetLocks,
    targetsOf(task.command),
    ticket,
    deps.settings.queue,
  )
  if (full !== undefined) {
    await deps.tasks.remove(task.id, task.version).catch(() => false)
    throw queueFull(deps, full)
  }
  const toQueued = (current: Task): Task =>
    queuedState(
      deps,
      { ...current, intentAt: undefined, sendBy: undefined, accepted: true },
      ticket,
      'target-busy',
    )
  return recordOutcome(deps, task, answering(toQueued, acceptedAnswer(answer)))
}

export function queueFull(deps: Pick<SendDeps, 'settings'>, target: string): QueueFullError {
  return new QueueFullError(
    target,
    // About the time a queue needs to move on by one or two tasks.
    Math.max(1, Math.ceil(delayAt(deps.settings.queue.recheckDelaysMs, 1) / 1000)),
  )
}

/** A task waiting in its targets' queues with `ticket`. */
export function queuedState(
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
export function asIntent(deps: Pick<SendDeps, 'settings'>, task: Task, intentAt: number): Task {
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
  await deps.beforeUpstreamCall?.(task)
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

  await deps.afterUpstreamCall?.(task)
  const at = deps.now()
  const toPending = (current: Task): Task => ({
    ...current,
    status: 'pending',
    accepted: true,
    upstream: { taskNo: result.taskNo, requestId: result.requestId },
    updatedAt: new Date(at).toISOString(),
    dueAt: at + deps.settings.firstPollDelayMs,
    lease: undefined,
  })
  const answer = options.answer
  // The TaskNo's owner (so no reconciler hands it to another task) and the task, in parallel.
  const [owned, recorded] = await Promise.all([
    deps.taskNos.claim(result.taskNo, taskId, toEpochSeconds(at + deps.settings.taskRetentionMs)),
    recordOutcome(deps, task, answering(toPending, acceptedAnswer(answer))),
  ])
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

const queueDeps = (deps: SendDeps) => ({
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
  const toQueued = (current: Task): Task => ({
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
  const queued = await recordOutcome(deps, task, answering(toQueued, acceptedAnswer(answer)))
  return { kind: 'accepted', task: queued }
}

/** Sends of an accepted task proven never to have reached the registry, before it is given up. */
export const MAX_RESENDS = 5

/**
 * Whether an accepted task whose attempt provably never reached the registry is sent again: only
 * when the reason is time (its send window passed in a stalled process, or the service found the
 * signed timestamp too old), not a clock the gateway must fix first, and only a few times.
 */
function mayResend(task: Task, error: UpstreamError): boolean {
  return (
    error.neverReachedService &&
    error.code !== 'ClockSkewTooLarge' &&
    (task.resends ?? 0) < MAX_RESENDS
  )
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
  const again = await recordOutcome(deps, task, (current) => resendState(current, at))
  return { kind: 'accepted', task: again }
}

/** The state of an accepted task to be sent again: queued (`resend`), due now. */
export function resendState(task: Task, at: number): Task {
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
  const intent = asIntent(deps, held, intentAt)
  if (!(await deps.tasks.replace(intent, held.version))) {
    // Someone else moved the task: it keeps the targets only if it is still ours to send.
    deps.logger.warn('lost a task update race', { taskId: held.id })
    return 'lost'
  }
  return sendSubmission(deps, { ...intent, version: held.version + 1 }, { announced: true })
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
async function recordOutcome(
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

/** A new task as accepted, before it is either sent or queued. */
export function newTask(
  request: Omit<SubmitRequest, 'idempotency'>,
  id: string,
  now: number,
  extra: Pick<Task, 'changeId' | 'after' | 'idempotency' | 'accepted'> = {},
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
    ...extra,
  }
}

/** The error a task records when a submission is refused; an unsent one is `NotSubmitted`. */
function rejectionOf(error: UpstreamError) {
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
  const toRejected = (current: Task): Task => ({
    ...current,
    status: 'rejected',
    ...(freed && current.idempotency
      ? { idempotency: { ...current.idempotency, freed: true } }
      : {}),
    error: rejection,
    details: current.details.map((detail) => ({
      ...detail,
      status: 'failed',
      error: rejection.code,
    })),
    updatedAt: new Date(at).toISOString(),
    completedAt: new Date(at).toISOString(),
    lease: undefined,
    ...(notify
      ? {
          dueAt: at,
          callback: {
            ...current.callback,
            state: 'scheduled' as const,
            nextAttemptAt: new Date(at).toISOString(),
          },
          expiresAt: undefined,
        }
      : { dueAt: undefined, expiresAt: toEpochSeconds(at + deps.settings.taskRetentionMs) }),
  })
  return recordOutcome(
    deps,
    task,
    answering(
      toRejected,
      answer && ((current) => answer({ kind: 'rejected', task: current, error })),
    ),
  )
}

/** The answer to a task accepted in the state given, when a keyed request keeps one. */
function acceptedAnswer(
  render: RenderOutcome | undefined,
): ((task: Task) => StoredAnswer) | undefined {
  return render && ((task) => render({ kind: 'accepted', task }))
}

/** An outcome's next state, with a keyed request's answer to that state when one is kept. */
function answering(
  next: (current: Task) => Task,
  answerFor: ((task: Task) => StoredAnswer) | undefined,
): (current: Task) => Task {
  if (!answerFor) return next
  return (current) => {
    const task = next(current)
    return { ...task, answer: answerFor(task) }
  }
}
