/** A due change's step: claimed with a lease, then moved on by `settleChange`. */
import { settleChange } from '../changes/settle-change.ts'
import { pollDelay } from '../tasks/task-life.ts'
import type { PollerDeps, ProcessOutcome } from './poller-deps.ts'

/** A change falls due: claimed with a lease like a task, then moved on by `settleChange`. */
export async function processDueChange(deps: PollerDeps, id: string): Promise<ProcessOutcome> {
  const context = deps.changes
  const now = deps.now()
  const change = await context.changes.get(id, now)
  if (
    !change ||
    change.dueAt === undefined ||
    change.dueAt > now ||
    (change.lease && change.lease.until > now && change.lease.owner !== deps.settings.owner)
  ) {
    return 'skipped'
  }
  const claimed = {
    ...change,
    lease: { owner: deps.settings.owner, until: now + deps.settings.leaseMs },
  }
  if (!(await context.changes.replace(claimed, change.version))) return 'lost'
  const held = { ...claimed, version: change.version + 1 }
  try {
    const after = await settleChange({ ...context, logger: deps.logger }, held)
    return after.status === 'running' ? 'waiting' : 'completed'
  } catch (error) {
    deps.logger.warn('change step failed; retrying later', { changeId: id, error })
    await context.changes
      .replace(
        { ...held, lease: undefined, dueAt: deps.now() + pollDelay(deps.settings, 1) },
        held.version,
      )
      .catch(() => undefined)
    return 'error'
  }
}
