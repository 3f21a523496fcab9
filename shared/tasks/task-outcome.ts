import { queueDeps } from './send-submission.ts'
import { isTerminal, type Task, type TaskStatus } from './task.ts'
import type { TaskLifeDeps, TaskStepDeps } from './task-life.ts'
import { releaseTargets } from './task-queue.ts'
import { toFinal, toRejected } from './task-states.ts'

/** Writes the next state of a held task; losing the race means someone else moved it. */
export async function save(deps: TaskLifeDeps, held: Task, next: Task): Promise<boolean> {
  const ok = await deps.tasks.replace({ ...next, lease: undefined }, held.version)
  if (!ok) deps.logger.warn('lost a task update race', { taskId: held.id })
  else if (isTerminal(next.status) && !isTerminal(held.status)) {
    deps.metrics?.add('TasksFinished', 1, { dimensions: { Status: next.status } })
  }
  return ok
}

/** A task's final state (see tasks/task-states.ts), kept for the poller's retention. */
export const finished = (
  deps: TaskLifeDeps,
  task: Task,
  status: TaskStatus,
  at: number,
  extra: Partial<Task> = {},
): Task => toFinal(task, status, at, deps.settings.taskRetentionMs, { extra })

/** A task rejected without reaching the registry (see tasks/task-states.ts). */
export const rejected = (
  deps: TaskLifeDeps,
  task: Task,
  at: number,
  error: { code: string; message: string },
): Task => toRejected(task, at, error, deps.settings.taskRetentionMs)

/** The task is final: its targets are free for the next in line, woken now. */
export async function unlockTargets(deps: TaskStepDeps, task: Task): Promise<void> {
  const woken = await releaseTargets(queueDepsOf(deps), task)
  // The next task in line goes now, in this run, rather than at the next read of the due index.
  await Promise.all(
    woken.map((id) =>
      deps.moveOn(id).catch((error: unknown) => {
        deps.logger.warn('could not move the next queued task on', { taskId: id, error })
      }),
    ),
  )
}

/** What the queue's operations need: the send path's, with the run's own stores and clock. */
export const queueDepsOf = (deps: TaskLifeDeps) =>
  queueDeps({
    ...deps.send,
    tasks: deps.tasks,
    targetLocks: deps.targetLocks,
    now: deps.now,
    logger: deps.logger,
  })
