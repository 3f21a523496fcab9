import { sendInTurn, sendSubmission } from '../tasks/send-submission.ts'
import type { Task } from '../tasks/task.ts'
import { newTask, toIntent, toQueued } from '../tasks/task-states.ts'
import type { ChangeDeps, StoredChange } from './change-request.ts'
import { stepTicket } from './withdraw-change.ts'

/**
 * Writes the steps of an accepted change not written yet, `queued` with the places reserved when it
 * was proposed — except a first step that took its domain then (`heldSince`): it is written as its
 * intent and sent at once. Its intent carries the clock reading taken before the domain was taken,
 * so its `sendBy` never lies beyond what the hold's `until` allows for (a process stalled past it
 * does not send: the step is proven unsent and sent again in its turn). A step repaired later (its process stopped) is written queued and sent in its turn
 * (`sendInTurn` finds the domain its own if it took it).
 */
export async function writeSteps(
  deps: ChangeDeps,
  change: StoredChange,
  existing: readonly (Task | undefined)[],
  heldSince?: number,
): Promise<void> {
  const acceptedAt = Date.parse(change.createdAt)
  let first: Task | undefined
  for (const [index, step] of change.planned.entries()) {
    if (existing[index]) continue
    const task = newTask(
      {
        tenant: change.tenant,
        keyId: change.keyId,
        command: step.command,
        callbackUrl: change.callbackUrl,
      },
      step.id,
      acceptedAt,
      {
        changeId: change.id,
        after: step.after.length > 0 ? step.after : undefined,
        accepted: true,
      },
    )
    const leads = index === 0 && step.after.length === 0
    if (leads && heldSince !== undefined) {
      const intent = toIntent(deps, task, heldSince)
      if (await deps.tasks.create(intent)) await sendSubmission(deps, intent, { announced: true })
      continue
    }
    const reason = step.after.length > 0 ? 'after-steps' : 'target-busy'
    const queued = toQueued(deps, task, stepTicket(change, index), reason)
    // Written before (a step repaired twice): the stored one stands.
    if (!(await deps.tasks.create(queued))) continue
    if (leads) first = queued
  }
  // The first step goes now if its turn has come; else it waits in its turn.
  if (first) await sendInTurn(deps, first)
}
