import { eventBody, eventWebhookId, type WebhookEvent } from '../events/webhook-event.ts'
import type { DueItemStore } from '../ports/due-item-store.ts'
import { processDueWatch, startFollowing } from '../publication/follow-publication.ts'
import { stepTask } from '../tasks/step-task.ts'
import { isTerminal, type Task } from '../tasks/task.ts'
import type { TaskStepDeps } from '../tasks/task-life.ts'
import type { DueItem } from '../tasks/task-store.ts'
import { taskEventBody, webhookIdOf } from '../webhooks/task-event.ts'
import { claimAndWork } from './claim-and-work.ts'
import { deliverCallback } from './deliver-callback.ts'
import type { CarrierKind, DeliveryHandOff, PollerDeps, ProcessOutcome } from './poller-deps.ts'
import { processDueChange } from './process-change.ts'

/**
 * Works on one due item, by its kind: a change is settled, a publication watch followed, an
 * event's callback delivered; a task is claimed with a lease (a conditional write, so overlapping
 * runs and retried invocations never act twice), then polled, reconciled, sent in its turn or its
 * callback delivered, and the result written with another conditional write that releases the
 * lease. With `handOff`, a callback is delivered in the background on the run's lanes instead of
 * being waited for.
 */
export async function processDueItem(
  deps: PollerDeps,
  item: DueItem,
  handOff?: DeliveryHandOff,
): Promise<ProcessOutcome> {
  const taskId = item.id
  if (handOff?.lanes.isRunning(taskId)) return 'skipped'
  // A lane reserved for this task (by the run, which knew it was waiting, or below) is given back
  // on every way out except a started delivery; `release` is a no-op for a task without one.
  let dispatched = false
  const markDispatched = () => {
    dispatched = true
  }
  try {
    switch (item.kind) {
      case 'change':
        return await processDueChange(deps, item.id)
      case 'publication':
        if (!deps.publications) return 'skipped'
        return await processDueWatch(deps.publications, item.id, {
          owner: deps.settings.owner,
          ms: deps.settings.leaseMs,
        })
      case 'event':
        return await claimAndWork(deps, item, handOff, markDispatched, eventKind(deps.events))
      case 'task':
        return await claimAndWork(deps, item, handOff, markDispatched, taskKind(deps))
      default: {
        const unknown: never = item.kind
        throw new Error(`no work for a due item of kind ${String(unknown)}`)
      }
    }
  } finally {
    if (!dispatched) handOff?.lanes.release(taskId)
  }
}

/** The URL of a callback that is due now, if the task's next step is one. */
export function callbackDue(task: Task): string | undefined {
  if (!isTerminal(task.status) || !task.callback.url) return undefined
  return ['scheduled', 'sending'].includes(task.callback.state) ? task.callback.url : undefined
}

/**
 * A task as the poller drives it: its steps are the task's own (tasks/step-task.ts), with the
 * publication following and the next-in-line hand-off bound here; a final task's step is its
 * callback.
 */
function taskKind(deps: PollerDeps): CarrierKind<Task> {
  const { publications } = deps
  const step: TaskStepDeps = {
    ...deps,
    followPublication: publications && ((final) => startFollowing(publications, final)),
    // A finished task frees its targets; the next in line is moved on at once, through here.
    moveOn: (id) => processDueItem(deps, { kind: 'task', id }),
  }
  return {
    claim: (id, lease, now) => deps.tasks.claim(id, lease, now),
    replace: (next, version) => deps.tasks.replace(next, version),
    webhookId: webhookIdOf,
    body: taskEventBody,
    callbackDue,
    async work(held, log) {
      return stepTask(step, held) ?? deliverCallback(deps, held, log, this)
    },
  }
}

function eventKind(events: DueItemStore<WebhookEvent>): CarrierKind<WebhookEvent> {
  return {
    claim: (id, lease, now) => events.claim(id, lease, now),
    replace: (next, version) => events.replace(next, version),
    webhookId: eventWebhookId,
    body: eventBody,
    callbackDue: (event) =>
      event.callback.url && ['scheduled', 'sending'].includes(event.callback.state)
        ? event.callback.url
        : undefined,
    async work() {
      // An event has nothing to do but its callback; one without a due callback is left alone.
      return 'skipped'
    },
  }
}
