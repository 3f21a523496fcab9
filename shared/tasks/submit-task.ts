import { IdempotencyInFlightError, IdempotencyKeyReuseError, QueueFullError } from '../errors.ts'
import { keyedTaskId } from '../ids.ts'
import { recordOutcome, sendSubmission } from './send-submission.ts'
import { acceptedAnswer, answering } from './submit-answer.ts'
import type { RenderOutcome, SubmitDeps, SubmitRequest, SubmitResult } from './submit-deps.ts'
import { acquireAll, releaseAll, ticketOf } from './target-locks.ts'
import { isTerminal, type Task, targetsOf } from './task.ts'
import { enqueueAll } from './task-queue.ts'
import { holdUntil, newTask, queueFull, toIntent, toQueued } from './task-states.ts'

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
  let task = toIntent(
    deps,
    newTask(
      request,
      taskId,
      intentAt,
      // The nonce is any fresh random id: only this request knows it.
      keyed
        ? { idempotency: { requestHash: keyed.requestHash }, intentNonce: deps.newTaskId() }
        : {},
    ),
    intentAt,
  )
  if (keyed) {
    const claimed = await deps.tasks.createOrGet(task, intentAt)
    if (!claimed.created) {
      const own = ownIntent(claimed.existing, task)
      if (own) task = own
      else {
        const found = await fromKeyed(deps, claimed.existing, task, render)
        if (found.kind === 'answer') return found.answer
        task = found.task
      }
    }
  } else if (!(await deps.tasks.create(task))) {
    throw new Error(`task id ${taskId} is already taken`)
  }
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
 * The key's task is this request's own intent: written, its answer lost, and the task written
 * again (a poller's claim once the intent fell due) before the SDK's retry met it, so the write
 * reads as another's. Its nonce tells it apart; the request goes on as if it had read its write —
 * the poller that holds it meanwhile only looks upstream (the intent holds no domain yet), and
 * the outcome known here is written over it, as in `sendInTurn`.
 */
function ownIntent(existing: Task, intent: Task): Task | undefined {
  const mine = intent.intentNonce !== undefined && existing.intentNonce === intent.intentNonce
  return mine && existing.status === 'submitting' ? existing : undefined
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
  const queued = (current: Task): Task =>
    toQueued(
      deps,
      { ...current, intentAt: undefined, sendBy: undefined, accepted: true },
      ticket,
      'target-busy',
    )
  return recordOutcome(deps, task, answering(queued, acceptedAnswer(answer)))
}
