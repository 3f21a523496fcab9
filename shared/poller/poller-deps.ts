/** What the poller works with and what it reports: its dependencies, a step's outcome, the delivery hand-off. */
import type { ChangeDeps } from '../changes/change-request.ts'
import type { WebhookEvent } from '../events/webhook-event.ts'
import type { Logger } from '../logger.ts'
import type { DueItemStore } from '../ports/due-item-store.ts'
import type { PublicationDeps } from '../publication/follow-publication.ts'
import type { Task } from '../tasks/task.ts'
import type { StepOutcome, TaskLifeDeps } from '../tasks/task-life.ts'
import type { DueItem } from '../tasks/task-store.ts'
import type { DeliveryLogStore } from '../webhooks/delivery-log.ts'
import type { EndpointHealthStore } from '../webhooks/endpoint-health-store.ts'
import type { SendResult, WebhookMessage } from '../webhooks/send-webhook.ts'
import type { DeliveryLanes } from './delivery-lanes.ts'
import type { PollerSettings } from './poller-settings.ts'

/** What the poller drives: a task's steps (tasks/task-life.ts), changes, publications, events, callbacks. */
export interface PollerDeps extends TaskLifeDeps {
  readonly deliveries: DeliveryLogStore
  /** The webhook secrets that sign callbacks for tasks submitted with this API key. */
  readonly secretsFor: (keyId: string) => Promise<string[]>
  readonly sendWebhook: (message: WebhookMessage) => Promise<SendResult>
  readonly random: () => number
  readonly sleep: (ms: number) => Promise<void>
  readonly settings: PollerSettings
  /** Changes to settle (see changes/settle-change.ts). */
  readonly changes: ChangeDeps
  /** Succeeded tasks followed at the parent zone until it serves them (see publication/). */
  readonly publications?: PublicationDeps | undefined
  /** Events to deliver (a change's end, a domain's drift). */
  readonly events: DueItemStore<WebhookEvent>
  /** Per-endpoint delivery health (backoff as a whole, disabling), read with the signing key. */
  readonly endpoints: EndpointHealthStore
  /** Repairs the due index now and then (see sweep-due-index.ts); called once per run. */
  readonly sweepDueIndex?: () => Promise<unknown>
}

/** What happened to one due item: a task's step (see tasks/task-life.ts), or a callback's. */
export type ProcessOutcome =
  | StepOutcome
  | 'delivered'
  | 'callback-failed'
  /** A callback handed to the delivery lanes; it runs beside the poller's rounds. */
  | 'dispatched'
  /** A callback left due: its endpoint is backed off, or too little of the run is left. */
  | 'deferred'
  /** A callback left due because its endpoint's lanes (or all lanes) are busy. */
  | 'lanes-full'

/** How a poller run hands callbacks to its delivery lanes (see delivery-lanes.ts). */
export interface DeliveryHandOff {
  readonly lanes: DeliveryLanes
  /**
   * When the invocation is stopped for good (a Lambda's end): a delivery starts only if its
   * timeout ends before it, since the run waits for its deliveries before it returns.
   */
  readonly hardStop: number
  /** Told each background delivery's outcome, for the run's statistics. */
  readonly onDone: (outcome: ProcessOutcome) => void
  /** Told of a callback that waits for a lane, so the run need not read it again meanwhile. */
  readonly onLanesFull?: (taskId: string, waiting: WaitingCallback) => void
}

/** What the poller does with one kind of due item that may carry a callback. */
export interface CarrierKind<T extends CallbackCarrier> {
  claim(id: string, lease: { owner: string; until: number }, now: number): Promise<T | undefined>
  replace(next: T, expectedVersion: number): Promise<boolean>
  webhookId(item: T): string
  body(item: T): string
  /** The URL of a callback that is due now, if the item's next step is one. */
  callbackDue(item: T): string | undefined
  /** The item's own next step when it is not a callback. */
  work(held: T, log: Logger): Promise<ProcessOutcome>
}

/** A callback waiting for a lane: where it goes, whose it is (lanes are shared by tenant), and what carries it. */
export interface WaitingCallback {
  readonly url: string
  readonly tenant: string
  readonly item: DueItem
}

/** Anything whose webhook the poller delivers: a task's completion, or an event. */
export interface CallbackCarrier {
  readonly id: string
  readonly tenant: string
  readonly keyId: string
  readonly version: number
  readonly callback: Task['callback']
  readonly dueAt?: number | undefined
  readonly lease?: { readonly owner: string; readonly until: number } | undefined
  readonly expiresAt?: number | undefined
}
