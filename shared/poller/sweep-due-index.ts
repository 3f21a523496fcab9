import type { Logger } from '../logger.ts'
import type { DueSweepStore } from './due-sweep-store.ts'

export interface DueSweepSettings {
  /** Pause between full passes over the open tasks. */
  readonly intervalMs: number
  /** A task overdue by more than this is rewritten, so its due-index entry exists again. */
  readonly staleAfterMs: number
  readonly pagesPerRun: number
  readonly pageSize: number
  readonly leaseMs: number
  readonly owner: string
}

interface DueSweepDeps {
  readonly store: DueSweepStore
  readonly now: () => number
  readonly logger: Logger
  readonly settings: DueSweepSettings
}

interface DueSweepResult {
  /** Open items read from the index (never the history: finished ones are not in it). */
  readonly examined: number
  /** Overdue open items found. */
  readonly scanned: number
  readonly repaired: number
  /** True when this run finished a pass over the whole table. */
  readonly passDone: boolean
}

/**
 * Finds work that is due but that the due index does not list — tasks, changes and events overdue
 * far longer than any poller lag, or a task left `submitting` with no due time (an engine that
 * writes an item and its index entries separately can lose the latter in a crash) — and rewrites
 * each with a conditional write, which puts it back in the index. It reads the sparse open-work
 * index (only items with work ahead), shard after shard: its cost follows the open work, not the
 * history kept. Paged over runs, one pass per interval, claimed like a lease so overlapping
 * pollers never sweep at once. Leased items are left alone.
 */
export async function sweepDueIndex(deps: DueSweepDeps): Promise<DueSweepResult | undefined> {
  const now = deps.now()
  const { settings } = deps
  const state = await deps.store.state()
  if (state && (state.nextAt > now || (state.leaseUntil ?? 0) > now)) return undefined
  const held = {
    nextAt: state?.nextAt ?? now,
    cursor: state?.cursor,
    owner: settings.owner,
    leaseUntil: now + settings.leaseMs,
  }
  if (!(await deps.store.save(held, state?.version))) return undefined
  const heldVersion = (state?.version ?? 0) + 1

  let cursor = held.cursor
  let scanned = 0
  let examined = 0
  let repaired = 0
  for (let page = 0; page < settings.pagesPerRun; page++) {
    const dueBefore = deps.now() - settings.staleAfterMs
    const result = await deps.store.overdueItems(dueBefore, deps.now(), cursor, settings.pageSize)
    examined += result.examined
    for (const item of result.items) {
      scanned++
      if (await deps.store.makeDue(item, dueBefore, deps.now())) repaired++
    }
    cursor = result.cursor
    if (!cursor) break
  }
  const passDone = cursor === undefined
  await deps.store.save({ nextAt: passDone ? now + settings.intervalMs : now, cursor }, heldVersion)
  if (repaired > 0) {
    deps.logger.warn('items missing from the due index were made due again', { repaired, scanned })
  }
  return { examined, scanned, repaired, passDone }
}
