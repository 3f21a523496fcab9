/** An item the poller works on when it falls due (a change to settle, an event to deliver). */
export interface DueItem {
  readonly id: string
  /** Optimistic-lock counter: every write expects the version it read. */
  readonly version: number
  /** When work on it is next due, epoch ms; absent when none. */
  readonly dueAt?: number | undefined
  readonly lease?: { readonly owner: string; readonly until: number } | undefined
  /** Epoch seconds after which the item is gone (TTL). */
  readonly expiresAt?: number | undefined
}

export interface DueItemStore<T extends DueItem> {
  /** Writes a new item; false if the id is taken. */
  create(item: T): Promise<boolean>
  get(id: string, now: number): Promise<T | undefined>
  /** Takes a due item's lease and reads it in one request (see `claimLease`). */
  claim(id: string, lease: { owner: string; until: number }, now: number): Promise<T | undefined>
  /** Replaces the item if it is still at `expectedVersion`; the stored version becomes +1. */
  replace(next: T, expectedVersion: number): Promise<boolean>
  /** Makes an item that is due later due at `at` (advisory; version and lease stay). */
  nudge(id: string, at: number): Promise<void>
}
