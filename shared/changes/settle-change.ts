import { toEpochSeconds } from '../epoch.ts'
import { newEvent } from '../events/webhook-event.ts'
import { isTerminal, type Task } from '../tasks/task.ts'
import type { Change } from './change.ts'
import type { ChangeDeps, StoredChange } from './change-request.ts'
import type { DomainState } from './domain-state.ts'
import { withdraw } from './withdraw-change.ts'
import { writeSteps } from './write-steps.ts'

/**
 * Moves a running change on (the poller calls it when the change falls due): writes steps a crash
 * left unwritten, waits while any step is open, and once all are final, records the desired state
 * as applied (only if every step succeeded), closes the change on the domain, and sends one
 * `change.succeeded` or `change.failed` webhook.
 */
export async function settleChange(deps: ChangeDeps, held: Change): Promise<Change> {
  const change = held as StoredChange
  if (change.status === 'proposed') {
    // Left behind by a process that stopped before accepting it: withdrawn, never run. The
    // withdrawal is a conditional write on the version held, so a late acceptance loses.
    const at = deps.now()
    const withdrawn: StoredChange = {
      ...change,
      status: 'withdrawn',
      updatedAt: new Date(at).toISOString(),
      // Due again at once until its tickets and the domain's mention of it are taken back.
      dueAt: at,
      lease: undefined,
    }
    if (!(await deps.changes.replace(withdrawn, change.version))) return change
    deps.logger.warn('withdrew a change that was never accepted', { changeId: change.id })
    return settleChange(deps, { ...withdrawn, version: change.version + 1 })
  }
  if (change.status === 'withdrawn') {
    if (change.dueAt === undefined) return change
    // A store error leaves it due: the poller tries again (see processDueChange).
    await withdraw(deps, change, { tickets: true })
    const at = deps.now()
    const done: StoredChange = {
      ...change,
      dueAt: undefined,
      lease: undefined,
      expiresAt: toEpochSeconds(at + deps.settings.taskRetentionMs),
    }
    await deps.changes.replace(done, change.version)
    return done
  }
  if (change.status !== 'running') return change
  const now = deps.now()
  const steps = await Promise.all(change.steps.map((id) => deps.tasks.get(id, now)))
  if (steps.some((step) => !step)) {
    deps.logger.warn('writing the steps a change is missing', { changeId: change.id })
    await writeSteps(deps, change, steps)
  }
  if (steps.some((step) => !step || !isTerminal(step.status))) {
    const next = { ...change, dueAt: deps.now() + deps.changeRecheckMs, lease: undefined }
    await deps.changes.replace(next, change.version)
    return next
  }
  const failed = steps.find((step) => step && step.status !== 'succeeded')
  const at = deps.now()
  const status = failed ? 'failed' : 'succeeded'
  await closeOnDomain(deps, change, status === 'succeeded', at)
  const final: StoredChange = {
    ...change,
    status,
    error: failed
      ? {
          code: 'StepFailed',
          message: `Step ${failed.id} (${failed.action}) ended ${failed.status}${failed.error ? `: ${failed.error.message}` : ''}; no later step that depended on it ran.`,
        }
      : undefined,
    updatedAt: new Date(at).toISOString(),
    completedAt: new Date(at).toISOString(),
    dueAt: undefined,
    lease: undefined,
    expiresAt: toEpochSeconds(at + deps.settings.taskRetentionMs),
  }
  // The event first (its id is the change's, so a retry writes it once), then the final state.
  await deps.events.create(
    newEvent({
      id: `evt_${change.id.slice('chg_'.length)}`,
      tenant: change.tenant,
      keyId: change.keyId,
      type: status === 'succeeded' ? 'change.succeeded' : 'change.failed',
      data: changeEventData(final, steps as Task[]),
      url: change.callbackUrl,
      at,
      retentionMs: deps.settings.taskRetentionMs,
      sequence: await deps.eventSequence.next(change.domain),
    }),
  )
  if (await deps.changes.replace(final, change.version)) {
    deps.logger.info('change finished', { changeId: change.id, status })
    return { ...final, version: change.version + 1 }
  }
  return (await deps.changes.get(change.id, deps.now())) ?? final
}

export function changeEventData(change: Change, steps: readonly Task[]): Record<string, unknown> {
  return {
    id: change.id,
    domain: change.domain,
    kind: change.kind,
    status: change.status,
    trigger: change.trigger,
    safety: change.safety,
    plan: change.plan,
    desired: change.desired,
    steps: steps.map((step) => ({ taskId: step.id, action: step.action, status: step.status })),
    error: change.error,
    createdAt: change.createdAt,
    completedAt: change.completedAt,
  }
}

/** The change is over: no longer open on the domain, and its desired state applied if it succeeded. */
async function closeOnDomain(
  deps: ChangeDeps,
  change: Change,
  applied: boolean,
  at: number,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const state = await deps.domainStates.get(change.domain)
    if (!state || state.tenant !== change.tenant) return
    const { version, ...base } = state
    const stillOpen = base.open?.[change.kind] === change.id
    const open = { ...base.open }
    if (stillOpen) delete open[change.kind]
    const appliedAt = new Date(at).toISOString()
    // A later change of the same kind may have been applied first: never write over it.
    const recorded = change.kind === 'ds' ? base.ds : base.nameServers
    const newer = recorded !== undefined && recorded.changeCreatedAt > change.createdAt
    const part =
      applied && !newer
        ? { ...change.desired, appliedAt, changeId: change.id, changeCreatedAt: change.createdAt }
        : undefined
    const next = {
      ...base,
      open,
      ...(part && change.kind === 'ds' ? { ds: part as DomainState['ds'] } : {}),
      ...(part && change.kind === 'name-servers'
        ? { nameServers: part as DomainState['nameServers'] }
        : {}),
    }
    if (!stillOpen && !part) return
    if (await deps.domainStates.save(next, version)) return
  }
  deps.logger.warn('could not close a change on its domain', { changeId: change.id })
}
