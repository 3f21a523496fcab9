/** What the poller works with and what it reports: its dependencies, a step's outcome, the delivery hand-off. */
import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import type { ChangeDeps } from '../changes/change-request.ts'
import type { WebhookEvent } from '../events/webhook-event.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { DueItemStore } from '../ports/due-item-store.ts'
import type { PublicationDeps } from '../publication/follow-publication.ts'
import type { SendDeps } from '../tasks/submit-deps.ts'
import type { TargetLockStore } from '../tasks/target-locks.ts'
import type { Task } from '../tasks/task.ts'
import type { DueItem, TaskNoRegistry, TaskStore } from '../tasks/task-store.ts'
import type { DeliveryLogStore } from '../webhooks/delivery-log.ts'
import type { EndpointHealthStore } from '../webhooks/endpoint-health-store.ts'
import type { SendResult, WebhookMessage } from '../webhooks/send-webhook.ts'
import type { DeliveryLanes } from './delivery-lanes.ts'
import type { PollerSettings } from './poller-settings.ts'
import type { UpstreamListing } from './upstream-listing.ts'

export interface PollerDeps {
  readonly tasks: TaskStore
  readonly taskNos: TaskNoRegistry
  readonly deliveries: DeliveryLogStore
  readonly upstream: Pick<
    DomainApiClient,
    'queryAllTaskDetails' | 'queryTaskList' | 'queryTaskDetailList'
  >
  /** The account's task listing and candidates' targets, shared by the searches of a process. */
  readonly listing: UpstreamListing
  /** The webhook secrets that sign callbacks for tasks submitted with this API key. */
  readonly secretsFor: (keyId: string) => Promise<string[]>
  readonly sendWebhook: (message: WebhookMessage) => Promise<SendResult>
  readonly now: () => number
  readonly random: () => number
  readonly sleep: (ms: number) => Promise<void>
  readonly logger: Logger
  readonly settings: PollerSettings
  /** Who holds each target and who waits for it; a final task releases its targets. */
  readonly targetLocks: TargetLockStore
  /** How queued tasks are sent in their turn (the submission path's own dependencies). */
  readonly send: SendDeps
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
  /** Tasks finished, callback attempts, the due backlog (see metrics.ts); absent: not counted. */
  readonly metrics?: Metrics
}

/** What happened to one due task; `throttled` asks the run to back off. */
export type ProcessOutcome =
  | 'skipped'
  | 'lost'
  | 'polled'
  | 'completed'
  | 'reconciled'
  /** A queued task whose turn came: sent upstream. */
  | 'sent'
  /** A queued task that still waits. */
  | 'waiting'
  | 'delivered'
  | 'callback-failed'
  | 'throttled'
  | 'error'
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

/**
 * What a step of the poller works with: its dependencies, and how to move the next task in line on
 * at once when a finished task frees its targets (the dispatcher's own entry point, passed in).
 */
export interface StepDeps extends PollerDeps {
  readonly moveOn: (taskId: string) => Promise<ProcessOutcome>
}
