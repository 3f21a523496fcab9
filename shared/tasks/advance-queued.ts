/** A queued task's step: send it when its turn comes, keep it waiting, or reject it unsent. */

import { sendInTurn } from './send-submission.ts'
import type { SendDeps } from './submit-deps.ts'
import { isTerminal, type Task } from './task.ts'
import type { StepOutcome, TaskLifeDeps } from './task-life.ts'
import { queueDepsOf, rejected, save } from './task-outcome.ts'
import { delayAt, leaveQueue } from './task-queue.ts'

/**
 * A queued task's turn: rejected if it waited too long or a step it depends on failed; else, when
 * it is the head of every target's queue and the targets are free, it takes them, writes its
 * intent (`submitting`, a new `sendBy`) and is sent exactly as the API sends. Otherwise it looks
 * again after a backoff (sooner when a release wakes it).
 */
export async function advanceQueued(deps: TaskLifeDeps, held: Task): Promise<StepOutcome> {
  const send = deps.send
  const now = deps.now()
  // Every queued task carries its place (see toQueued).
  const queue = held.queue as NonNullable<Task['queue']>
  const queueDeps = queueDepsOf(deps)
  const since = Date.parse(queue.since)
  if (now - since > send.settings.queue.maxWaitMs) {
    return leaveUnsent(deps, held, {
      code: 'QueueTimeout',
      message: 'The task waited too long for its turn; nothing was sent.',
    })
  }
  if (held.after && held.after.length > 0) {
    const earlier = await Promise.all(held.after.map((id) => deps.tasks.get(id, now)))
    if (earlier.some((step) => step && isTerminal(step.status) && step.status !== 'succeeded')) {
      return leaveUnsent(deps, held, {
        code: 'ChangeStopped',
        message: 'An earlier step of the change did not succeed; this step was not sent.',
      })
    }
    if (earlier.some((step) => step?.status !== 'succeeded')) {
      // Its earlier steps end before it can be the head; each one's end wakes the change.
      return keepWaiting(deps, held, send, 'behind')
    }
  }
  const outcome = await sendInTurn(
    { ...send, logger: deps.logger, nudgeChange: queueDeps.nudgeChange },
    held,
  )
  if (outcome === 'head' || outcome === 'behind') return keepWaiting(deps, held, send, outcome)
  if (outcome === 'lost') return 'lost'
  if (outcome.kind === 'rejected') return 'completed'
  return 'sent'
}

async function keepWaiting(
  deps: TaskLifeDeps,
  held: Task,
  send: SendDeps,
  turn: 'head' | 'behind',
): Promise<StepOutcome> {
  const queue = held.queue as NonNullable<Task['queue']>
  const delays =
    queue.reason === 'upstream-busy'
      ? send.settings.queue.busyRetryDelaysMs
      : turn === 'head'
        ? send.settings.queue.headRecheckDelaysMs
        : send.settings.queue.recheckDelaysMs
  const ok = await save(deps, held, {
    ...held,
    queue: { ...queue, checks: queue.checks + 1 },
    dueAt: deps.now() + delayAt(delays, queue.checks),
  })
  return ok ? 'waiting' : 'lost'
}

/** A queued task that will never be sent: rejected, its tickets and targets given back. */
async function leaveUnsent(
  deps: TaskLifeDeps,
  held: Task,
  error: { code: string; message: string },
): Promise<StepOutcome> {
  const ok = await save(
    deps,
    held,
    rejected(deps, { ...held, queue: undefined }, deps.now(), error),
  )
  if (ok) await leaveQueue(queueDepsOf(deps), held)
  if (ok) deps.logger.warn('queued task rejected unsent', { taskId: held.id, code: error.code })
  return ok ? 'completed' : 'lost'
}
