/** How a submission's outcome becomes the answer sent, and kept for a replay of its Idempotency-Key. */
import type { UpstreamError } from '../aliyun/upstream-error.ts'
import type { RenderOutcome } from './submit-deps.ts'
import type { StoredAnswer, Task } from './task.ts'

/** Errors after which the same request may succeed later, so its key is freed for a retry. */
export function freesKey(error: UpstreamError): boolean {
  return error.provesNothingDone
}

/** The answer to a task accepted in the state given, when a keyed request keeps one. */
export function acceptedAnswer(
  render: RenderOutcome | undefined,
): ((task: Task) => StoredAnswer) | undefined {
  return render && ((task) => render({ kind: 'accepted', task }))
}

/** An outcome's next state, with a keyed request's answer to that state when one is kept. */
export function answering(
  next: (current: Task) => Task,
  answerFor: ((task: Task) => StoredAnswer) | undefined,
): (current: Task) => Task {
  if (!answerFor) return next
  return (current) => {
    const task = next(current)
    return { ...task, answer: answerFor(task) }
  }
}
