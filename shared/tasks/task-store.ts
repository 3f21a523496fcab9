import type { CallbackState, Task, TaskAction, TaskStatus } from './task.ts'

export interface TaskFilter {
  readonly status?: TaskStatus | undefined
  readonly domain?: string | undefined
  readonly action?: TaskAction | undefined
  /** Only tasks submitted with this API key… */
  readonly keyId?: string | undefined
  /** …whose callback is in this state. */
  readonly callbackState?: CallbackState | undefined
}

export interface TaskPage {
  readonly items: Task[]
  /** Where the next page starts; absent on the last page. The API seals it into a cursor. */
  readonly next?: Record<string, unknown> | undefined
}

/** Persistence of tasks. Every write is conditional; a write that loses its race returns false. */
export interface TaskStore {
  /** Writes a new task; false if the id is taken. */
  create(task: Task): Promise<boolean>
  /**
   * Writes a new task unless a live one has its id (one whose retention has run out counts as
   * gone: TTL deletion is late), or answers that one — in the same request where the engine can.
   * A keyed submission's id is derived from its key, so this one write is both the key's claim and
   * the intent (see submit-task.ts).
   */
  createOrGet(
    task: Task,
    now: number,
  ): Promise<{ readonly created: true } | { readonly created: false; readonly existing: Task }>
  /** Deletes the task if it is still at `expectedVersion` (a submission that wrote nothing else). */
  remove(id: string, expectedVersion: number): Promise<boolean>
  get(id: string, now: number): Promise<Task | undefined>
  /** Replaces the task if it is still at `expectedVersion`; the stored version becomes +1. */
  replace(next: Task, expectedVersion: number): Promise<boolean>
  listByTenant(
    tenant: string,
    filter: TaskFilter,
    limit: number,
    start: Record<string, unknown> | undefined,
    now: number,
  ): Promise<TaskPage>
  /**
   * Wakes a `queued` task (a target it waits for was released): due at `at` if it was due later.
   * If a poller holds its lease meanwhile, that poller decided on a read from before the release,
   * so the wake-up also takes the lease away and moves the version on: the stale decision's write
   * (another look in a few seconds) then fails, and the task stays due now instead of being put
   * off. Every writer of a queued task writes conditionally on its version, so this only ever
   * costs the leaseholder a lost race.
   */
  nudge(id: string, at: number): Promise<void>
  /**
   * Takes a due task's lease and reads it in one request (see `claimLease`): undefined when it is
   * gone, not due, or leased by another owner.
   */
  claim(id: string, lease: { owner: string; until: number }, now: number): Promise<Task | undefined>
  /** Tasks, changes, publication watches and events whose `dueAt` ≤ `now` in one shard, oldest first. */
  dueItems(shard: number, now: number, limit: number): Promise<DueItem[]>
  /** Due items of one shard (counted up to `limit`) and the oldest one's due time, for metrics. */
  dueBacklog?(
    shard: number,
    now: number,
    limit: number,
  ): Promise<{ count: number; oldestDueAt: number | undefined }>
  readonly shardCount: number
}

/**
 * An entry of the due index: which kind of item is due (as the item's own record in the table
 * says), and its id. The poller dispatches on the kind.
 */
export interface DueItem {
  readonly kind: 'task' | 'change' | 'publication' | 'event'
  readonly id: string
}

export interface TaskNoRegistry {
  claim(taskNo: string, taskId: string, expiresAt: number): Promise<boolean>
}
