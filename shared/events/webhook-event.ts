import { toEpochSeconds } from '../epoch.ts'
import type { DueItem } from '../ports/due-item-store.ts'
import type { TaskCallback } from '../tasks/task.ts'

/** Events that are not a task's own completion: a change's end, a domain's drift. */
export const EVENT_TYPES = [
  'change.succeeded',
  'change.failed',
  'domain.drifted',
  'domain.in_sync',
  'dnssec.ds.submitted',
  'dnssec.ds.published',
  'dnssec.rollover.completed',
  'dnssec.rollover.stuck',
  'dnssec.scan.failed',
  'publication.served',
  'publication.late',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** The `task.*` events: a task's final state, one type per terminal status. */
export const TASK_EVENT_TYPES = [
  'task.succeeded',
  'task.failed',
  'task.partially_failed',
  'task.rejected',
  'task.unknown',
] as const
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number]

/** Every type a receiver can get: task, change, domain and DNSSEC events, and `ping`. */
export const ALL_EVENT_TYPES = [...TASK_EVENT_TYPES, ...EVENT_TYPES, 'ping'] as const
export type AnyEventType = (typeof ALL_EVENT_TYPES)[number]

/**
 * One webhook to send, kept until delivered like a task's callback: the same retries, endpoint
 * health, lanes and delivery log. Its body never changes, so every attempt sends the same bytes.
 */
export interface WebhookEvent extends DueItem {
  readonly tenant: string
  /** The API key whose webhook secrets sign it. */
  readonly keyId: string
  /** (Not `type`: the table's own `type` attribute says what kind of item this is.) */
  readonly eventType: AnyEventType
  readonly occurredAt: string
  readonly data: Record<string, unknown>
  readonly callback: TaskCallback
  readonly createdAt: string
  /** Sent by `POST /webhooks/test` (its data a sample), not by anything that happened. */
  readonly test?: boolean | undefined
}

export const eventWebhookId = (event: WebhookEvent): string => `msg_${event.id}`

export function eventBody(event: WebhookEvent): string {
  return JSON.stringify({ type: event.eventType, timestamp: event.occurredAt, data: event.data })
}

/**
 * A new event, due for delivery now; or, with no URL, kept (`none`) for the event list and
 * `listen` until its retention runs out (an event with a URL is kept from its last attempt on).
 */
export function newEvent(input: {
  id: string
  tenant: string
  keyId: string
  type: EventType
  data: Record<string, unknown>
  url: string | undefined
  at: number
  /** How long an event with no URL is kept (`TASK_RETENTION_DAYS`, as tasks). */
  retentionMs: number
  /** The domain's event number (see event-sequence.ts), written into `data.sequence`. */
  sequence?: number | undefined
}): WebhookEvent {
  const iso = new Date(input.at).toISOString()
  return {
    id: input.id,
    version: 1,
    tenant: input.tenant,
    keyId: input.keyId,
    eventType: input.type,
    occurredAt: iso,
    data: input.sequence === undefined ? input.data : { ...input.data, sequence: input.sequence },
    callback: input.url
      ? { url: input.url, state: 'scheduled', attempts: 0, nextAttemptAt: iso }
      : { url: undefined, state: 'none', attempts: 0 },
    createdAt: iso,
    dueAt: input.url ? input.at : undefined,
    expiresAt: input.url ? undefined : toEpochSeconds(input.at + input.retentionMs),
  }
}
