/**
 * What a task's life after its submission works with — its next step by status: a queued task
 * sent in its turn, a `submitting` one reconciled, a pending one polled to its final state — and
 * what a step reports. The poller drives these steps (its dependencies extend these); the callback
 * that follows a final state is delivered by the poller's lanes.
 */
import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { SendDeps } from './submit-deps.ts'
import type { TargetLockStore } from './target-locks.ts'
import type { Task } from './task.ts'
import type { TaskNoRegistry, TaskStore } from './task-store.ts'
import type { UpstreamListing } from './upstream-listing.ts'

/** How a task's steps are paced and judged. Every duration in milliseconds. */
export interface TaskLifeSettings {
  /** How long a claimed task is reserved for the run that works on it. */
  readonly leaseMs: number
  /** Delay before the n-th status poll (the last value repeats). */
  readonly pollDelaysMs: readonly number[]
  /** A task still unfinished after this long becomes `unknown`. */
  readonly maxTaskAgeMs: number
  /**
   * The absence proof's terms: the submission's send window (for intents that carry no `sendBy`),
   * the service's timestamp window, the clock-skew bound the client enforces, and a margin for
   * the service's own processing and listing delay. See `absenceProvableAfter`.
   */
  readonly sendWindowMs: number
  readonly timestampWindowMs: number
  readonly maxClockSkewMs: number
  readonly absenceMarginMs: number
  /** Delay between reconciliation attempts. */
  readonly reconcileRetryMs: number
  /**
   * An upstream task is adopted only once it is this old, so a submission still on its way back
   * with that TaskNo has recorded it first (at least the upstream timeout).
   */
  readonly candidateSettleMs: number
  readonly taskRetentionMs: number
}

/** What every step of a task's life reads and writes. */
export interface TaskLifeDeps {
  readonly tasks: TaskStore
  readonly taskNos: TaskNoRegistry
  readonly upstream: Pick<
    DomainApiClient,
    'queryAllTaskDetails' | 'queryTaskList' | 'queryTaskDetailList'
  >
  /** The account's task listing and candidates' targets, shared by the searches of a process. */
  readonly listing: UpstreamListing
  /** Who holds each target and who waits for it; a final task releases its targets. */
  readonly targetLocks: TargetLockStore
  /** How queued tasks are sent in their turn (the submission path's own dependencies). */
  readonly send: SendDeps
  readonly now: () => number
  readonly logger: Logger
  readonly settings: TaskLifeSettings
  /** Tasks finished, reconciliation calls (see metrics.ts); absent: not counted. */
  readonly metrics?: Metrics | undefined
}

/**
 * A step's dependencies within a run: how a task that succeeded starts being followed at the
 * parent zone (publication/, bound by the driver), and how the next task in line is moved on at
 * once when a finished task frees its targets (the driver's own entry point).
 */
export interface TaskStepDeps extends TaskLifeDeps {
  readonly followPublication?: ((final: Task) => Promise<void>) | undefined
  readonly moveOn: (taskId: string) => Promise<unknown>
}

/** What one step did; `throttled` asks the run to back off, `lost`: someone else moved the task. */
export type StepOutcome =
  | 'skipped'
  | 'lost'
  | 'polled'
  | 'completed'
  | 'reconciled'
  /** A queued task whose turn came: sent upstream. */
  | 'sent'
  /** A queued task that still waits. */
  | 'waiting'
  | 'throttled'
  | 'error'

export function pollDelay(settings: Pick<TaskLifeSettings, 'pollDelaysMs'>, pollCount: number) {
  const delays = settings.pollDelaysMs
  return delays[Math.min(pollCount, delays.length - 1)] as number
}
