import { advanceQueued } from './advance-queued.ts'
import { poll } from './poll-task.ts'
import { reconcile } from './reconcile-task.ts'
import { isTerminal, type Task } from './task.ts'
import type { StepOutcome, TaskStepDeps } from './task-life.ts'

/**
 * A held task's next step by its status: a queued task is sent in its turn (or waits, or is
 * rejected unsent), a `submitting` one is reconciled, a pending or running one is polled until
 * final. A final task has no step of its own (its callback is the driver's); undefined then.
 */
export function stepTask(deps: TaskStepDeps, held: Task): Promise<StepOutcome> | undefined {
  if (held.status === 'queued') return advanceQueued(deps, held)
  if (held.status === 'submitting') return reconcile(deps, held)
  if (!isTerminal(held.status)) return poll(deps, held)
  return undefined
}
