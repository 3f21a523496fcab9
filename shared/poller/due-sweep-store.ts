import type { Task } from '../tasks/task.ts'

/** Where the due-index sweep is: the next run, its cursor, who holds it. One item. */
export interface DueSweepState {
  readonly version: number
  /** Epoch ms before which no new pass starts. */
  readonly nextAt: number
  /** Where the current pass stopped; absent between passes. */
  readonly cursor?: Record<string, unknown> | undefined
  readonly owner?: string | undefined
  readonly leaseUntil?: number | undefined
}

export interface OverduePage {
  readonly items: Task[]
  readonly cursor?: Record<string, unknown> | undefined
  /** How many index entries the page read (open tasks only, never the history). */
  readonly examined: number
}

export interface DueSweepStore {
  state(): Promise<DueSweepState | undefined>
  /** Writes the state if it is still at `expectedVersion` (undefined: not written yet). */
  save(next: Omit<DueSweepState, 'version'>, expectedVersion: number | undefined): Promise<boolean>
  /**
   * One page of the open tasks (a sparse index of exactly the tasks not yet final, shard after
   * shard): those due before `dueBefore` and not leased at `now`, or `submitting` with no due
   * time at all, each read whole.
   */
  overdueTasks(
    dueBefore: number,
    now: number,
    cursor: Record<string, unknown> | undefined,
    pageSize: number,
  ): Promise<OverduePage>
}
