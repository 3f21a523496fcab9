/** A `submitting` task's step: find its upstream task, or prove it was never sent and send it again or reject it. */

import { iso } from '../epoch.ts'
import type { Task, TaskSearch } from './task.ts'
import type { StepOutcome, TaskStepDeps } from './task-life.ts'
import { rejected, save, unlockTargets } from './task-outcome.ts'
import { holdsAll } from './task-queue.ts'
import { MAX_RESENDS, toResend } from './task-states.ts'
import { absenceProvableAfter, findUpstreamTask, unheldNeverSentAfter } from './upstream-search.ts'

export async function reconcile(deps: TaskStepDeps, held: Task): Promise<StepOutcome> {
  // The clock is read before the targets are (see reconcileUnheld).
  const lookedAt = deps.now()
  if (!(await holdsAll(deps.targetLocks, held))) {
    return reconcileUnheld(deps, held, lookedAt)
  }
  const search = await findUpstreamTask(deps, held)
  const at = deps.now()
  deps.metrics?.add('ReconcileUpstreamCalls', search.calls)
  const seen = (outcome: TaskSearch['outcome']): TaskSearch => ({
    at: iso(at),
    outcome,
    reason: search.reason,
    calls: search.calls,
  })
  if (search.taskNo) {
    const ok = await save(deps, held, {
      ...held,
      status: 'pending',
      upstream: { taskNo: search.taskNo, requestId: held.upstream.requestId },
      search: seen('found'),
      updatedAt: iso(at),
      dueAt: at,
    })
    // The adopted task keeps its targets until it is final.
    if (ok)
      deps.logger.info('reconciled an unknown submission', {
        taskId: held.id,
        taskNo: search.taskNo,
      })
    return ok ? 'reconciled' : 'lost'
  }
  const provableAfter = absenceProvableAfter(deps.settings, held)
  // A verdict of absence rests on a whole listing read after the window closed, and on no
  // matching candidate being too young to judge.
  if (search.complete && search.listedAt >= provableAfter && search.tooYoung === 0) {
    return rejectUnsent(
      deps,
      { ...held, search: seen('absent') },
      at,
      'submission proven absent upstream',
    )
  }
  if (!search.complete) {
    deps.logger.warn('the upstream search was inconclusive; no verdict', {
      taskId: held.id,
      reason: search.reason,
    })
  }
  // Look again after the usual pause, and no later than the moment absence becomes provable.
  const next =
    at < provableAfter
      ? Math.min(at + deps.settings.reconcileRetryMs, Math.max(at, provableAfter))
      : at + deps.settings.reconcileRetryMs
  const ok = await save(deps, held, {
    ...held,
    search: seen(search.complete ? 'not-yet' : 'inconclusive'),
    dueAt: next,
  })
  return ok ? 'polled' : 'lost'
}

/**
 * A `submitting` task that does not hold every target has not been sent: a task is sent only
 * while it holds them all, and a target held by a task that is not final is never released or
 * given to another. Its process stopped (or is slow) between the intent and taking the targets,
 * or — its domain busy — between its tickets and recording it `queued` (a write the store failed).
 * It may still take them, but it sends only by `sendBy` on its own clock: once the targets were
 * read unheld after that (and the clocks' skew, see `unheldNeverSentAfter`), it never will. Decided
 * then, not at the absence horizon (the service's timestamp window on top: ~16 minutes in
 * production, a domain's queue waiting on it); nothing is searched for upstream either, since any
 * task found there for its domain in its window is another's (a neighbour's whose process died
 * before recording it).
 */
async function reconcileUnheld(
  deps: TaskStepDeps,
  held: Task,
  lookedAt: number,
): Promise<StepOutcome> {
  const at = deps.now()
  const neverSentAfter = unheldNeverSentAfter(deps.settings, held)
  if (lookedAt <= neverSentAfter) {
    // Looked at again after the usual pause: if it takes its targets and sends meanwhile, and
    // its process then stops, the next look searches for its upstream task as usual.
    const next = Math.min(at + deps.settings.reconcileRetryMs, neverSentAfter + 1)
    const ok = await save(deps, held, { ...held, dueAt: next })
    return ok ? 'polled' : 'lost'
  }
  // It may hold some of a batch's targets (a process that stopped while taking them).
  return rejectUnsent(deps, held, at, 'submission never sent (targets not held); task rejected')
}

/**
 * A submission proven never to have reached the registry. Accepted (answered 202): sent again with
 * a fresh intent in its turn, keeping what it holds — the gateway carries out what it accepted.
 * Never answered 202 (its process stopped first): `rejected` / `NotSubmitted`, and a keyed
 * request's key is freed, so the same request may be sent again with it.
 */
async function rejectUnsent(
  deps: TaskStepDeps,
  held: Task,
  at: number,
  logMessage: string,
): Promise<StepOutcome> {
  if (held.accepted && (held.resends ?? 0) < MAX_RESENDS) {
    const ok = await save(deps, held, toResend(held, at))
    if (ok) deps.logger.warn(`${logMessage}; accepted, so sent again`, { taskId: held.id })
    return ok ? 'reconciled' : 'lost'
  }
  const error = {
    code: 'NotSubmitted',
    message: held.accepted
      ? `The submission never reached Alibaba Cloud in ${MAX_RESENDS + 1} attempts; nothing was changed.`
      : 'The submission never reached Alibaba Cloud; nothing was changed.',
  }
  const freed = held.idempotency && !held.accepted
  const ok = await save(deps, held, {
    ...rejected(deps, held, at, error),
    ...(freed ? { idempotency: { ...held.idempotency, freed: true }, answer: undefined } : {}),
  })
  if (!ok) return 'lost'
  // Its targets, or those of them it holds, are free for the next in line.
  await unlockTargets(deps, held)
  deps.logger.warn(logMessage, { taskId: held.id })
  return 'completed'
}
