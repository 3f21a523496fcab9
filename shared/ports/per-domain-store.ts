/** One versioned item per domain, listed through the owner index (all of a kind, paged). */
export interface PerDomainStore<T extends { readonly domain: string; readonly version: number }> {
  get(domain: string): Promise<T | undefined>
  /** Writes if still at `expectedVersion` (undefined: not yet written). */
  save(next: Omit<T, 'version'>, expectedVersion: number | undefined): Promise<boolean>
  /** Deletes the item if it is still at `expectedVersion`. */
  remove(domain: string, expectedVersion: number): Promise<boolean>
  /** Every item of the kind, a page at a time. */
  list(
    limit: number,
    start: Record<string, unknown> | undefined,
  ): Promise<{ items: T[]; next?: Record<string, unknown> | undefined }>
}
