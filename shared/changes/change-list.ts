import type { Change, ChangeKind } from './change.ts'

export interface ChangeFilter {
  readonly status?: 'running' | 'succeeded' | 'failed' | undefined
  readonly domain?: string | undefined
  readonly kind?: ChangeKind | undefined
}

/** A tenant's accepted changes, newest first, paged. */
export interface ChangeList {
  list(
    tenant: string,
    filter: ChangeFilter,
    limit: number,
    start: Record<string, unknown> | undefined,
    now: number,
  ): Promise<{ readonly items: Change[]; readonly next?: Record<string, unknown> | undefined }>
}
