import { ConflictError } from '../errors.ts'
import { acquireAll } from '../tasks/target-locks.ts'
import { targetsOf } from '../tasks/task.ts'
import { enqueueAll } from '../tasks/task-queue.ts'
import { holdUntil, queueFull } from '../tasks/task-states.ts'
import { DomainManagedElsewhereError } from '../tenants/domain-assignment.ts'
import type { Change } from './change.ts'
import {
  type ChangeDeps,
  ChangeRaceError,
  type ChangeRequest,
  type StoredChange,
} from './change-request.ts'
import type { DomainState } from './domain-state.ts'
import { planChange, stepsOf } from './plan-change.ts'
import { settleChange } from './settle-change.ts'
import { giveBack, type Reserved, stepTicket, withdraw } from './withdraw-change.ts'
import { writeSteps } from './write-steps.ts'

/**
 * Starts applying a desired state, deciding everything before anything can run. The change is
 * first written as `proposed` — a state nothing executes and no step is written for. Then:
 * 1. the domain names it as its open change of the kind: one conditional write that decides the
 *    managing tenant (409 for another's domain) and that the plan still stands (409 when another
 *    change of the kind started since it was planned);
 * 2. a ticket per step in the domain's queue, all or none (429 when the queue has no room);
 * 3. the change is accepted: a conditional write `proposed → running` on its first version. The
 *    poller withdraws a proposal left behind (a stopped process) with the same kind of write, so
 *    exactly one of the two wins.
 * Only then are its steps written (queued, in order) and the first one sent if its turn has come.
 * A refusal at 1–3 withdraws the proposal: tickets back, the domain no longer names it, the
 * change left `withdrawn` (never listed, never run). A change with nothing to do is final at once.
 */
export async function startChange(deps: ChangeDeps, request: ChangeRequest): Promise<Change> {
  const { plan, state, open, openSeen } = await planChange(deps, request)
  if (openSeen?.status === 'proposed') throw new ChangeRaceError()
  const at = deps.now()
  const iso = new Date(at).toISOString()
  const planned = stepsOf(request, plan, () => deps.newId('tsk'), open?.steps ?? [])
  const proposal: StoredChange = {
    id: deps.newId('chg'),
    version: 1,
    tenant: request.tenant,
    keyId: request.keyId,
    domain: request.domain,
    kind: request.kind,
    status: 'proposed',
    plan,
    desired: request.desired,
    steps: planned.map((step) => step.id),
    planned,
    callbackUrl: request.callbackUrl,
    trigger: request.trigger,
    ...(request.safety ? { safety: request.safety } : {}),
    createdAt: iso,
    updatedAt: iso,
    // Withdrawn by the poller if this process stops before it is accepted.
    dueAt: at + deps.settings.sendWindowMs,
  }
  if (!(await deps.changes.create(proposal))) throw new Error(`change id ${proposal.id} is taken`)
  let heldSince: number | undefined
  try {
    await markOpen(deps, request, state, proposal.id, openSeen?.id)
    heldSince = await reserveQueue(deps, proposal)
  } catch (error) {
    // Nothing was reserved, or it was given back (see reserveQueue).
    await withdraw(deps, proposal, { tickets: false }).catch((cleanup: unknown) =>
      deps.logger.warn('could not withdraw a refused change; the poller will', {
        changeId: proposal.id,
        error: cleanup,
      }),
    )
    throw error
  }
  const accepted: StoredChange = {
    ...proposal,
    status: 'running',
    updatedAt: new Date(deps.now()).toISOString(),
    dueAt: deps.now() + deps.changeRecheckMs,
  }
  if (!(await deps.changes.replace(accepted, proposal.version))) {
    // The poller withdrew it as left behind (this process was stalled that long), and gave back
    // what it had reserved.
    throw new ConflictError(
      'The change could not be accepted in time and was withdrawn; nothing was changed. Retry.',
    )
  }
  const running = { ...accepted, version: proposal.version + 1 }
  if (planned.length === 0) return settleChange(deps, running)
  await writeSteps(deps, running, [], heldSince)
  return running
}

/**
 * Names the change as the domain's open one of its kind (creating the domain's state): only while
 * the domain is the tenant's (or nobody's) and still names the change this one was planned after.
 */
async function markOpen(
  deps: ChangeDeps,
  request: ChangeRequest,
  state: DomainState | undefined,
  changeId: string,
  plannedAfter: string | undefined,
): Promise<void> {
  let current = state
  for (let attempt = 0; attempt < 5; attempt++) {
    if (current && current.tenant !== request.tenant && !request.takeOver) {
      throw new DomainManagedElsewhereError()
    }
    if (current?.open?.[request.kind] !== plannedAfter) throw new ChangeRaceError()
    const { version: _version, ...base } = current ?? {
      domain: request.domain,
      tenant: request.tenant,
      keyId: request.keyId,
      version: 0,
    }
    const next = {
      ...base,
      tenant: request.tenant,
      keyId: request.trigger === 'api' ? request.keyId : base.keyId,
      callbackUrl: request.trigger === 'api' ? request.callbackUrl : base.callbackUrl,
      open: { ...base.open, [request.kind]: changeId },
    }
    if (await deps.domainStates.save(next, current?.version)) return
    current = await deps.domainStates.get(request.domain)
  }
  throw new ConflictError('The domain state kept changing; try again.')
}

/**
 * Room in the domain's queue for every step, or none: the first step takes its domain at once when
 * it is free and nobody waits (the fast path, as a submission does); every other step, or the first
 * when the domain is busy, gets a ticket. A full queue (`QueueFullError`) or a store error gives back
 * what was taken. Answers, if the first step holds its domain, the clock reading its hold was
 * taken with: its intent must carry no later one (see writeSteps). (A process that stops meanwhile
 * leaves a hold or tickets whose tasks never come: the poller's withdrawal gives them back, and
 * the queue's own rules — a holder seen gone, a dead ticket — free them in any case.)
 */
async function reserveQueue(deps: ChangeDeps, change: StoredChange): Promise<number | undefined> {
  const placed: Reserved[] = []
  let heldSince: number | undefined
  try {
    for (const [index, step] of change.planned.entries()) {
      const targets = targetsOf(step.command)
      if (index === 0 && step.after.length === 0) {
        const at = deps.now()
        if (await acquireAll(deps.targetLocks, targets, step.id, holdUntil(deps, at))) {
          placed.push({ targets, holder: step.id })
          heldSince = at
          continue
        }
      }
      const ticket = stepTicket(change, index)
      const full = await enqueueAll(deps.targetLocks, targets, ticket, deps.settings.queue)
      if (full !== undefined) throw queueFull(deps, full)
      placed.push({ targets, ticket })
    }
  } catch (error) {
    await giveBack(deps, placed).catch(() => undefined)
    throw error
  }
  return heldSince
}
