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

/** An item the open-work index lists as overdue: a task, a change or an event. */
export interface OverdueItem {
  readonly pk: string
  readonly sk: string
}

export interface OverduePage {
  readonly items: readonly OverdueItem[]
  readonly cursor?: Record<string, unknown> | undefined
  /** How many index entries the page read (open work only, never the history). */
  readonly examined: number
}

export interface DueSweepStore {
  state(): Promise<DueSweepState | undefined>
  /** Writes the state if it is still at `expectedVersion` (undefined: not written yet). */
  save(next: Omit<DueSweepState, 'version'>, expectedVersion: number | undefined): Promise<boolean>
  /**
   * One page of the open work (a sparse index of exactly the items with work ahead, shard after
   * shard): those due before `dueBefore` and not leased at `now`, or `submitting` with no due
   * time at all.
   */
  overdueItems(
    dueBefore: number,
    now: number,
    cursor: Record<string, unknown> | undefined,
    pageSize: number,
  ): Promise<OverduePage>
  /**
   * Rewrites the item as read now — due no later than `now`, no lease — with a write conditional
   * on its version, which writes its due-index entry again. False when it changed meanwhile,
   * is leased, or is no longer overdue (someone else is working on it).
   */
  makeDue(item: OverdueItem, dueBefore: number, now: number): Promise<boolean>
}
