/** A pending task's step: read its registry task and move it on, or make it final. */

import { iso } from '../epoch.ts'
import { deriveStatus, forward, mergeDetails } from './derive-status.ts'
import { isTerminal, type Task } from './task.ts'
import { pollDelay, type StepOutcome, type TaskStepDeps } from './task-life.ts'
import { finished, save, unlockTargets } from './task-outcome.ts'

export async function poll(deps: TaskStepDeps, held: Task): Promise<StepOutcome> {
  const taskNo = held.upstream.taskNo as string
  const upstream = await deps.upstream.queryAllTaskDetails({ taskNo })
  const at = deps.now()
  const details = mergeDetails(held.details, upstream)
  const derived = forward(held, deriveStatus(details))
  if (isTerminal(derived)) {
    const failure = details.find((detail) => detail.status === 'failed')
    const error =
      derived === 'succeeded'
        ? undefined
        : { code: 'TaskFailed', message: failure?.error ?? 'The registry task failed.' }
    const final = finished(deps, { ...held, details }, derived, at, { error })
    // Followed at the parent from here on; the watch is written first, so it is never lost.
    if (deps.followPublication && (derived === 'succeeded' || derived === 'partially_failed')) {
      await deps.followPublication(final)
    }
    const ok = await save(deps, held, final)
    if (ok) deps.logger.info('task finished', { taskId: held.id, status: derived })
    if (ok) await unlockTargets(deps, held)
    return ok ? 'completed' : 'lost'
  }
  if (at - Date.parse(held.createdAt) > deps.settings.maxTaskAgeMs) {
    const error = {
      code: 'TaskTimedOut',
      message: 'The registry task did not finish within the maximum age.',
    }
    const ok = await save(
      deps,
      held,
      finished(deps, { ...held, details }, 'unknown', at, { error }),
    )
    if (ok) deps.logger.warn('task unknown after maximum age', { taskId: held.id, taskNo })
    if (ok) await unlockTargets(deps, held)
    return ok ? 'completed' : 'lost'
  }
  const ok = await save(deps, held, {
    ...held,
    status: derived,
    details,
    updatedAt: derived !== held.status ? iso(at) : held.updatedAt,
    pollCount: held.pollCount + 1,
    dueAt: at + pollDelay(deps.settings, held.pollCount + 1),
  })
  return ok ? 'polled' : 'lost'
}
