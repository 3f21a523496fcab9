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
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/**
 * One webhook to send, kept until delivered like a task's callback: the same retries, endpoint
 * health, lanes and delivery log. Its body never changes, so every attempt sends the same bytes.
 */
export interface WebhookEvent extends DueItem {
  readonly tenant: string
  /** The API key whose webhook secrets sign it. */
  readonly keyId: string
  /** (Not `type`: the table's own `type` attribute says what kind of item this is.) */
  readonly eventType: EventType
  readonly occurredAt: string
  readonly data: Record<string, unknown>
  readonly callback: TaskCallback
  readonly createdAt: string
}

export const eventWebhookId = (event: WebhookEvent): string => `msg_${event.id}`

export function eventBody(event: WebhookEvent): string {
  return JSON.stringify({ type: event.eventType, timestamp: event.occurredAt, data: event.data })
}

/** A new event, due for delivery now (or kept with `none` when there is no URL). */
export function newEvent(input: {
  id: string
  tenant: string
  keyId: string
  type: EventType
  data: Record<string, unknown>
  url: string | undefined
  at: number
}): WebhookEvent {
  const iso = new Date(input.at).toISOString()
  return {
    id: input.id,
    version: 1,
    tenant: input.tenant,
    keyId: input.keyId,
    eventType: input.type,
    occurredAt: iso,
    data: input.data,
    callback: input.url
      ? { url: input.url, state: 'scheduled', attempts: 0, nextAttemptAt: iso }
      : { url: undefined, state: 'none', attempts: 0 },
    createdAt: iso,
    dueAt: input.url ? input.at : undefined,
  }
}
