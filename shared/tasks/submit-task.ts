import { UpstreamError } from '../aliyun/upstream-error.ts'
import { IdempotencyInFlightError, IdempotencyKeyReuseError } from '../errors.ts'
import type { Logger } from '../logger.ts'
import { StoreUnavailableError, toEpochSeconds } from '../store/dynamodb.ts'
import type {
  IdempotencyRecord,
  IdempotencyStore,
  StoredResponse,
} from '../store/idempotency-store.ts'
import type { TaskNoRegistry, TaskStore } from '../store/task-store.ts'
import { submitToUpstream, type TaskSubmitter } from './submit-to-upstream.ts'
import { type Task, type TaskCommand, targetsOf } from './task.ts'

export interface SubmitSettings {
  /** How long a first request holds its Idempotency-Key before another may look at its task. */
  readonly idempotencyLockMs: number
  readonly idempotencyTtlMs: number
  /** First status poll after acceptance. */
  readonly firstPollDelayMs: number
  /** When the reconciler first looks at a submission whose outcome is unknown. */
  readonly reconcileDelayMs: number
  /**
   * The upstream call starts no later than this after the intent's creation time (else nothing is
   * sent), so the reconciler knows when a submission can no longer be in flight.
   */
  readonly maxIntentWriteMs: number
  readonly taskRetentionMs: number
}

export const DEFAULT_SUBMIT_SETTINGS: SubmitSettings = {
  idempotencyLockMs: 60_000,
  idempotencyTtlMs: 24 * 3_600_000,
  firstPollDelayMs: 2_000,
  reconcileDelayMs: 30_000,
  maxIntentWriteMs: 5_000,
  taskRetentionMs: 30 * 86_400_000,
}

export interface SubmitDeps {
  readonly tasks: TaskStore
  readonly taskNos: TaskNoRegistry
  readonly idempotency: IdempotencyStore
  readonly upstream: TaskSubmitter
  readonly now: () => number
  readonly newTaskId: () => string
  readonly logger: Logger
  readonly settings: SubmitSettings
  /** Test seams for crash injection: after the intent is written, before the upstream call… */
  readonly beforeUpstreamCall?: (task: Task) => Promise<void>
  /** …and after the upstream call, before its outcome is written. */
  readonly afterUpstreamCall?: (task: Task) => Promise<void>
}

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
export type RenderOutcome = (outcome: SubmitOutcome) => StoredResponse

export interface SubmitResult extends StoredResponse {
  /** True when this is the stored answer to an earlier request with the same key. */
  readonly replayed: boolean
}

/** Errors after which the same request may succeed later, so its key is freed for a retry. */
function freesKey(error: UpstreamError): boolean {
  return error.retryability === 'retryable' || error.code === 'TaskIsBeingProcessed'
}

/**
 * Submits a command to the registry without ever submitting it twice by accident:
 * 1. with an Idempotency-Key, claim the key (one conditional write) or answer from it;
 * 2. write the task as `submitting` (the intent) before calling upstream;
 * 3. call the `Save*` action once;
 * 4. record `pending` with the TaskNo, or `rejected` with a final error; an ambiguous outcome
 *    leaves the task `submitting` for the reconciler, which looks it up instead of resubmitting.
 */
export async function submitTask(
  deps: SubmitDeps,
  request: SubmitRequest,
  render: RenderOutcome,
): Promise<SubmitResult> {
  const now = deps.now()
  let taskId = deps.newTaskId()
  let claim: IdempotencyRecord | undefined
  if (request.idempotency) {
    claim = {
      tenant: request.tenant,
      key: request.idempotency.key,
      requestHash: request.idempotency.requestHash,
      status: 'in_progress',
      taskId,
      lockedUntil: now + deps.settings.idempotencyLockMs,
      expiresAt: toEpochSeconds(now + deps.settings.idempotencyTtlMs),
    }
    const begun = await deps.idempotency.begin(claim, now)
    if (!begun.acquired) {
      const answer = await answerFromExisting(deps, claim, begun.existing, render, now)
      if (answer) return answer
      claim = { ...begun.existing, lockedUntil: now + deps.settings.idempotencyLockMs }
      taskId = begun.existing.taskId
    }
  }

  const task = newTask(deps, request, taskId, now)
  if (!(await deps.tasks.create(task))) {
    throw new Error(`task id ${taskId} is already taken`)
  }
  if (deps.now() - now > deps.settings.maxIntentWriteMs) {
    // The store was so slow that the reconciler's time bounds would no longer hold: send nothing.
    await abandonIntent(deps, task, claim)
    throw new StoreUnavailableError('The task store is too slow right now; nothing was submitted.')
  }

  await deps.beforeUpstreamCall?.(task)
  let result: Awaited<ReturnType<typeof submitToUpstream>>
  try {
    result = await submitToUpstream(deps.upstream, request.command)
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error
    if (error.retryability === 'ambiguous') {
      deps.logger.warn('upstream outcome unknown; task left submitting for the reconciler', {
        taskId,
        action: error.action,
        code: error.code,
      })
      return finish(deps, claim, render({ kind: 'accepted', task }), false)
    }
    const rejected = await rejectTask(deps, task, error)
    const response = render({ kind: 'rejected', task: rejected, error })
    if (claim && freesKey(error)) {
      await deps.idempotency.release(claim)
      return { ...response, replayed: false }
    }
    return finish(deps, claim, response, false)
  }

  await deps.afterUpstreamCall?.(task)
  const at = deps.now()
  const pending: Task = {
    ...task,
    status: 'pending',
    upstream: { taskNo: result.taskNo, requestId: result.requestId },
    updatedAt: new Date(at).toISOString(),
    dueAt: at + deps.settings.firstPollDelayMs,
  }
  const response = render({ kind: 'accepted', task: { ...pending, version: task.version + 1 } })
  // Three independent single-item writes, in parallel (one round trip instead of three): the
  // TaskNo's owner (so the reconciler never hands it to another task), the task, and the stored
  // answer for the idempotency key. If the task write loses a race, the reconciler got there
  // first with this same TaskNo, so the stored answer is still true.
  const [owned, replaced] = await Promise.all([
    deps.taskNos.claim(result.taskNo, taskId, toEpochSeconds(at + deps.settings.taskRetentionMs)),
    deps.tasks.replace(pending, task.version),
    claim ? deps.idempotency.complete(claim, response) : undefined,
  ])
  if (!owned) {
    // Only a reconciler adopting a too-young upstream task could do this; it must never happen.
    deps.logger.error('the TaskNo is recorded as owned by another task', {
      taskId,
      taskNo: result.taskNo,
    })
  }
  if (!replaced) {
    deps.logger.warn('task changed while submitting', { taskId, taskNo: result.taskNo })
    const current = (await deps.tasks.get(taskId, at)) ?? pending
    return { ...render({ kind: 'accepted', task: current }), replayed: false }
  }
  deps.logger.info('task submitted', { taskId, taskNo: result.taskNo, action: task.action })
  return { ...response, replayed: false }
}

async function answerFromExisting(
  deps: SubmitDeps,
  claim: IdempotencyRecord,
  existing: IdempotencyRecord,
  render: RenderOutcome,
  now: number,
): Promise<SubmitResult | undefined> {
  if (existing.requestHash !== claim.requestHash) throw new IdempotencyKeyReuseError()
  if (existing.status === 'completed' && existing.response) {
    return { ...existing.response, replayed: true }
  }
  if (existing.lockedUntil > now) {
    throw new IdempotencyInFlightError(Math.max(1, Math.ceil((existing.lockedUntil - now) / 1000)))
  }
  // The first request stopped (a crash or a timeout) while holding the key.
  const task = await deps.tasks.get(existing.taskId, now)
  if (task) {
    // It wrote its intent, so it may have reached the registry: never resubmit; answer with it.
    const response = render({ kind: 'accepted', task })
    await deps.idempotency.complete(existing, response)
    return { ...response, replayed: true }
  }
  // It stopped before writing the task, so nothing was sent upstream: take the key over.
  const lockedUntil = now + deps.settings.idempotencyLockMs
  if (!(await deps.idempotency.takeOver(existing, lockedUntil, now))) {
    throw new IdempotencyInFlightError(1)
  }
  return undefined
}

function newTask(deps: SubmitDeps, request: SubmitRequest, id: string, now: number): Task {
  const iso = new Date(now).toISOString()
  return {
    id,
    tenant: request.tenant,
    keyId: request.keyId,
    action: request.command.action,
    status: 'submitting',
    version: 1,
    command: request.command,
    upstream: {},
    details: targetsOf(request.command).map((target) => ({ target, status: 'pending' })),
    callback: { url: request.callbackUrl, state: 'none', attempts: 0 },
    createdAt: iso,
    updatedAt: iso,
    // Due for the reconciler in case this process stops before recording the outcome.
    dueAt: now + deps.settings.reconcileDelayMs,
    pollCount: 0,
  }
}

async function abandonIntent(deps: SubmitDeps, task: Task, claim: IdempotencyRecord | undefined) {
  const at = deps.now()
  const error = {
    code: 'NotSubmitted',
    message: 'The task store was too slow; nothing was sent upstream.',
  }
  await deps.tasks
    .replace(
      {
        ...task,
        status: 'rejected',
        error,
        details: task.details.map((detail) => ({ ...detail, status: 'failed', error: error.code })),
        updatedAt: new Date(at).toISOString(),
        completedAt: new Date(at).toISOString(),
        dueAt: undefined,
        expiresAt: toEpochSeconds(at + deps.settings.taskRetentionMs),
      },
      task.version,
    )
    .catch(() => false)
  if (claim) await deps.idempotency.release(claim).catch(() => false)
}

async function rejectTask(deps: SubmitDeps, task: Task, error: UpstreamError): Promise<Task> {
  const at = deps.now()
  const rejected: Task = {
    ...task,
    status: 'rejected',
    error: { code: error.code, message: error.upstreamMessage },
    details: task.details.map((detail) => ({ ...detail, status: 'failed', error: error.code })),
    updatedAt: new Date(at).toISOString(),
    completedAt: new Date(at).toISOString(),
    dueAt: undefined,
    expiresAt: toEpochSeconds(at + deps.settings.taskRetentionMs),
  }
  if (await deps.tasks.replace(rejected, task.version))
    return { ...rejected, version: task.version + 1 }
  return (await deps.tasks.get(task.id, at)) ?? rejected
}

async function finish(
  deps: SubmitDeps,
  claim: IdempotencyRecord | undefined,
  response: StoredResponse,
  replayed: boolean,
): Promise<SubmitResult> {
  if (claim) await deps.idempotency.complete(claim, response)
  return { ...response, replayed }
}
