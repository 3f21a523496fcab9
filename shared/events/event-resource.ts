import type { TaskCallback } from '../tasks/task.ts'
import { taskEventBody, webhookIdOf } from '../webhooks/task-event.ts'
import type { LoggedEvent } from './event-log.ts'
import { eventSubject } from './event-subject.ts'
import { eventBody, eventWebhookId } from './webhook-event.ts'

/** The webhook id's shape: `msg_` and the id of the task or stored event it is. */
export const EVENT_ID_PATTERN = /^msg_(tsk|evt)_[A-Za-z0-9_]{10,60}$/

/** Where an event id points: a task (`msg_tsk_…`) or a stored event (`msg_evt_…`). */
export function eventSourceOf(
  webhookId: string,
): { readonly kind: 'task' | 'event'; readonly id: string } | undefined {
  if (!EVENT_ID_PATTERN.test(webhookId)) return undefined
  const id = webhookId.slice('msg_'.length)
  return { kind: id.startsWith('tsk_') ? 'task' : 'event', id }
}

export const webhookIdOfLogged = (logged: LoggedEvent): string =>
  logged.kind === 'task' ? webhookIdOf(logged.task) : eventWebhookId(logged.event)

export const callbackOfLogged = (logged: LoggedEvent): TaskCallback =>
  logged.kind === 'task' ? logged.task.callback : logged.event.callback

/** When the event happened (its body's `timestamp`, and its place in the event index). */
export const timestampOfLogged = (logged: LoggedEvent): string =>
  logged.kind === 'task'
    ? (logged.task.completedAt ?? logged.task.updatedAt)
    : logged.event.occurredAt

/** The exact body the event's webhooks carry (every attempt sends these bytes). */
export const bodyOfLogged = (logged: LoggedEvent): string =>
  logged.kind === 'task' ? taskEventBody(logged.task) : eventBody(logged.event)

/**
 * The public view of an event: its webhook id, the body's `type`, `timestamp` and `data` exactly
 * as delivered, what it is about, and where its delivery stands.
 */
export function toEventResource(logged: LoggedEvent) {
  const body = JSON.parse(bodyOfLogged(logged)) as {
    type: string
    timestamp: string
    data: Record<string, unknown>
  }
  const callback = callbackOfLogged(logged)
  return {
    id: webhookIdOfLogged(logged),
    type: body.type,
    timestamp: body.timestamp,
    subject: eventSubject(body.data),
    test: logged.kind === 'event' && logged.event.test === true,
    data: body.data,
    delivery: {
      url: callback.url,
      state: callback.state,
      attempts: callback.attempts,
      lastAttemptAt: callback.lastAttemptAt,
      nextAttemptAt: callback.nextAttemptAt,
      deliveredAt: callback.deliveredAt,
      lastError: callback.lastError,
    },
  }
}
