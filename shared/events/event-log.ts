import type { Task } from '../tasks/task.ts'
import type { WebhookEvent } from './webhook-event.ts'

/**
 * One event as the gateway keeps it: a finished task (its final state is its `task.*` event) or a
 * stored event (change, domain, DNSSEC, test). Either way it is found by its webhook id.
 */
export type LoggedEvent =
  | { readonly kind: 'task'; readonly task: Task }
  | { readonly kind: 'event'; readonly event: WebhookEvent }

export interface EventQuery {
  /** One event type (`task.failed`, `change.succeeded`, …). */
  readonly type?: string | undefined
  /** Events that happened at or after this time (ISO). */
  readonly since?: string | undefined
  /** Oldest first (`asc`, for following) or newest first (`desc`, the default). */
  readonly order: 'asc' | 'desc'
}

export interface EventPage {
  readonly items: LoggedEvent[]
  /** Where the next page starts; absent on the last page. */
  readonly next?: Record<string, unknown> | undefined
}

/** A tenant's events in the order they happened, paged. */
export interface EventLog {
  list(
    tenant: string,
    query: EventQuery,
    limit: number,
    start: Record<string, unknown> | undefined,
    now: number,
  ): Promise<EventPage>
}
