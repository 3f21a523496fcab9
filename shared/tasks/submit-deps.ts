/** What a submission needs and answers: its settings, dependencies, request and outcome. */
import type { UpstreamError } from '../aliyun/upstream-error.ts'
import type { Logger } from '../logger.ts'
import type { ChangeSafety } from './change-safety.ts'
import type { TaskSubmitter } from './submit-to-upstream.ts'
import type { TargetLockStore } from './target-locks.ts'
import type { StoredAnswer, Task, TaskCommand } from './task.ts'
import type { QueueSettings } from './task-queue.ts'
import type { TaskNoRegistry, TaskStore } from './task-store.ts'

export interface SubmitSettings {
  /**
   * How long a first request holds its Idempotency-Key before another request with the key may
   * be answered from its task as it stands (until then: 409). The key itself is kept as long as
   * its task (`taskRetentionMs` after it ends).
   */
  readonly idempotencyLockMs: number
  /** First status poll after acceptance. */
  readonly firstPollDelayMs: number
  /** When the reconciler first looks at a submission whose outcome is unknown. */
  readonly reconcileDelayMs: number
  /**
   * Attempts are signed and sent only until this long after the intent's creation time (the task's
   * `sendBy`). Not a bound on how fast anything must be: an attempt after it is simply not made,
   * and is then proven unsent. It bounds how long the reconciler waits before it may call a
   * submission absent (`sendBy` + the service's timestamp window + clock skew).
   */
  readonly sendWindowMs: number
  /**
   * From `sendBy` to the moment absence is provable (the service's timestamp window + the skew
   * bound + the margin): how long a target lock outlives its holder at most.
   */
  readonly absenceAfterSendByMs: number
  readonly taskRetentionMs: number
  readonly queue: QueueSettings
}

export interface SubmitDeps {
  readonly tasks: TaskStore
  readonly taskNos: TaskNoRegistry
  readonly upstream: TaskSubmitter
  /** Who holds each domain or instance, and who waits for it (see target-lock-store.ts). */
  readonly targetLocks: TargetLockStore
  /** Wakes the change a final task is a step of (see changes/settle-change.ts). */
  readonly nudgeChange?: ((changeId: string, at: number) => Promise<void>) | undefined
  readonly now: () => number
  readonly newTaskId: () => string
  readonly logger: Logger
  readonly settings: SubmitSettings
}

/** What sending a task needs (the poller sends queued tasks with it too). */
export type SendDeps = Omit<SubmitDeps, 'newTaskId'>

export interface SubmitRequest {
  readonly tenant: string
  readonly keyId: string
  readonly command: TaskCommand
  readonly callbackUrl: string | undefined
  readonly idempotency?: { readonly key: string; readonly requestHash: string } | undefined
  /** The pre-flight verdict the request was accepted with (recorded on the task). */
  readonly safety?: ChangeSafety | undefined
}

export type SubmitOutcome =
  | { readonly kind: 'accepted'; readonly task: Task }
  | { readonly kind: 'rejected'; readonly task: Task; readonly error: UpstreamError }

/** Turns an outcome into the HTTP response to send (and to replay for the same key). */
export type RenderOutcome = (outcome: SubmitOutcome) => StoredAnswer

export interface SubmitResult extends StoredAnswer {
  /** True when this is the stored answer to an earlier request with the same key. */
  readonly replayed: boolean
}
