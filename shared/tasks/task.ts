import type { SubmitAction } from '../aliyun/domain-api-types.ts'
import type { DsRecord } from '../dns/dnskey.ts'
import type { ChangeSafety } from './change-safety.ts'

export const TASK_STATUSES = [
  'queued',
  'submitting',
  'pending',
  'running',
  'succeeded',
  'failed',
  'partially_failed',
  'rejected',
  'unknown',
] as const
export type TaskStatus = (typeof TASK_STATUSES)[number]

export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set([
  'succeeded',
  'failed',
  'partially_failed',
  'rejected',
  'unknown',
])

export const SCOPES = ['ds:write', 'dns:write', 'sync:write', 'tasks:read'] as const
export type Scope = (typeof SCOPES)[number]

/** The gateway's actions, the upstream action each submits, and the scope it needs. */
export const TASK_ACTIONS = {
  'ds.add': { upstream: 'SaveSingleTaskForAddingDSRecord', scope: 'ds:write' },
  'ds.modify': { upstream: 'SaveSingleTaskForModifyingDSRecord', scope: 'ds:write' },
  'ds.delete': { upstream: 'SaveSingleTaskForDeletingDSRecord', scope: 'ds:write' },
  'ds.sync': { upstream: 'SaveSingleTaskForSynchronizingDSRecord', scope: 'sync:write' },
  'dnshost.sync': { upstream: 'SaveSingleTaskForSynchronizingDnsHost', scope: 'sync:write' },
  'dns.batch': { upstream: 'SaveBatchTaskForModifyingDomainDns', scope: 'dns:write' },
} as const satisfies Record<string, { upstream: SubmitAction; scope: Scope }>
export type TaskAction = keyof typeof TASK_ACTIONS
export const TASK_ACTION_NAMES = Object.keys(TASK_ACTIONS) as TaskAction[]

/** What a task asks the registry to do, already validated and normalised. */
export type TaskCommand =
  | { readonly action: 'ds.add' | 'ds.modify'; readonly domain: string; readonly record: DsRecord }
  | { readonly action: 'ds.delete'; readonly domain: string; readonly keyTag: number }
  | { readonly action: 'ds.sync'; readonly domain: string }
  | { readonly action: 'dnshost.sync'; readonly instanceId: string }
  | {
      readonly action: 'dns.batch'
      readonly domains: readonly string[]
      readonly aliyunDns: boolean
      readonly nameServers: readonly string[]
    }

export type DetailStatus = 'pending' | 'running' | 'succeeded' | 'failed'

export interface TaskDetail {
  /** The domain, or the instance id of a DNS-host sync. */
  readonly target: string
  readonly status: DetailStatus
  readonly error?: string | undefined
}

export interface TaskError {
  readonly code: string
  readonly message: string
}

/**
 * `none`: no callback URL. `scheduled`: an attempt is due at `nextAttemptAt`. `sending`: an
 * attempt is in flight. Final: `delivered`, `exhausted` (every retry failed), `gone` (the receiver
 * answered 410), `blocked` (the URL resolves to an address the gateway may not call), `disabled`
 * (its endpoint was disabled after failing too long; re-enabling the endpoint schedules it again).
 */
export const CALLBACK_STATES = [
  'none',
  'scheduled',
  'sending',
  'delivered',
  'exhausted',
  'gone',
  'blocked',
  'disabled',
] as const
export type CallbackState = (typeof CALLBACK_STATES)[number]

/** Whether a callback still has work ahead: it waits to be sent, or is being sent. */
export const callbackOpen = (callback: Pick<TaskCallback, 'state'>): boolean =>
  callback.state === 'scheduled' || callback.state === 'sending'

export interface TaskCallback {
  readonly url: string | undefined
  readonly state: CallbackState
  readonly attempts: number
  readonly lastAttemptAt?: string | undefined
  readonly nextAttemptAt?: string | undefined
  readonly deliveredAt?: string | undefined
  readonly lastError?: string | undefined
}

/**
 * Why a `queued` task waits: its domain or instance is held by another of the gateway's tasks
 * (`target-busy`), the registry answered `TaskIsBeingProcessed` for a task started elsewhere
 * (`upstream-busy`; the task holds its targets and retries with backoff), or it is a step of a
 * change that runs only after the change's earlier steps succeeded (`after-steps`), or it was
 * accepted and then proven never to have reached the registry, so it is sent again (`resend`; it
 * keeps the targets it holds).
 */
export type QueueReason = 'target-busy' | 'upstream-busy' | 'after-steps' | 'resend'

export interface TaskQueueState {
  /** Its place in each target's queue (see target-lock-store.ts). */
  readonly ticket: string
  readonly reason: QueueReason
  /** When it was first queued (ISO). */
  readonly since: string
  /** How many times it has looked for its turn (or retried a busy registry): the backoff step. */
  readonly checks: number
}

/**
 * What the reconciler's last look upstream found for a submission whose outcome is unknown:
 * `not-yet` (nothing found, and absence not yet provable), `inconclusive` (the listing or a
 * candidate could not be read whole, so no verdict; `reason` says why), `absent` (proven absent:
 * sent again if accepted), `found` (its upstream task adopted).
 */
export interface TaskSearch {
  readonly at: string
  readonly outcome: 'not-yet' | 'inconclusive' | 'absent' | 'found'
  readonly reason?: string | undefined
  /** Upstream calls this search made. */
  readonly calls: number
}

/** An HTTP answer as first sent (see `Task.answer`). */
export interface StoredAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

export interface Task {
  readonly id: string
  readonly tenant: string
  /** The API key that submitted the task; its webhook secret signs the callbacks. */
  readonly keyId: string
  readonly action: TaskAction
  readonly status: TaskStatus
  /** Optimistic-lock counter: every write expects the version it read. */
  readonly version: number
  readonly command: TaskCommand
  readonly upstream: {
    readonly taskNo?: string | undefined
    readonly requestId?: string | undefined
  }
  readonly details: readonly TaskDetail[]
  readonly error?: TaskError | undefined
  readonly callback: TaskCallback
  readonly createdAt: string
  /**
   * Epoch ms, set with the intent: no `Save*` attempt for this task is signed or sent after it.
   * The service refuses a signed request more than its timestamp window from its clock, so no
   * upstream task can appear for this one after `sendBy` + that window (+ clock skew).
   */
  readonly sendBy?: number | undefined
  /**
   * Epoch ms of the latest intent (when the task last became `submitting`); a queued task's intent
   * comes long after its creation. The reconciler's search window starts here.
   */
  readonly intentAt?: number | undefined
  /**
   * A random value of the keyed request that wrote this task's first intent. That request's own
   * write, made but its answer lost and the task rewritten (a poller's claim) before the SDK's
   * retry met it, reads as another writer's; this tells it apart from another request with the
   * key, which may read the same millisecond.
   */
  readonly intentNonce?: string | undefined
  /** Set while the task is `queued`. */
  readonly queue?: TaskQueueState | undefined
  /**
   * The pre-flight verdict of its end state, when it has one (DS add, modify, delete; a
   * name-server batch), and whether the caller forced it (see preflight/).
   */
  readonly safety?: ChangeSafety | undefined
  /** The change this task is a step of, and the steps that must succeed before it is sent. */
  readonly changeId?: string | undefined
  readonly after?: readonly string[] | undefined
  readonly updatedAt: string
  readonly completedAt?: string | undefined
  /** When the parent zone's servers were all seen serving what the task changed (see publication/). */
  readonly publishedAt?: string | undefined
  /** When work on this task is next due (poll, reconcile, callback), epoch ms; absent when none. */
  readonly dueAt?: number | undefined
  readonly pollCount: number
  /**
   * The HTTP answer to the request that created the task, when it carried an Idempotency-Key:
   * written with the outcome (one write), sent again for a retry with the same key.
   */
  readonly answer?: StoredAnswer | undefined
  /**
   * Set when the task was created by a request with an Idempotency-Key (its id is derived from the
   * key, see `keyedTaskId`): the request's hash, so a reuse of the key with another request is
   * refused; `freed` when the request was refused in a way that proves nothing was done, so the
   * same request may be sent again with the key (it then takes this task over).
   */
  readonly idempotency?:
    | { readonly requestHash: string; readonly freed?: boolean | undefined }
    | undefined
  /**
   * Set once the gateway has answered (or is answering) the request with 202: queued, pending, a
   * step of an accepted change, or left `submitting` with its outcome unknown. Such a task is
   * carried out: proven never to have reached the registry, it is sent again (`resend`), not
   * handed back. A task without it that is proven unsent was never answered 202 (its process
   * stopped first): it is `rejected` / `NotSubmitted` and a keyed request's key is freed.
   */
  readonly accepted?: boolean | undefined
  /** How many times an accepted task was sent again after being proven never sent. */
  readonly resends?: number | undefined
  /** The reconciler's last search upstream for this submission, while its outcome is unknown. */
  readonly search?: TaskSearch | undefined
  readonly lease?: { readonly owner: string; readonly until: number } | undefined
  /** Epoch seconds after which the item is gone (TTL). */
  readonly expiresAt?: number | undefined
}

export function targetsOf(command: TaskCommand): readonly string[] {
  switch (command.action) {
    case 'dnshost.sync':
      return [command.instanceId]
    case 'dns.batch':
      return command.domains
    default:
      return [command.domain]
  }
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.has(status)
}
