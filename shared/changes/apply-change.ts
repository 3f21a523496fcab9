import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import {
  type DsPlan,
  dsSteps,
  type NameServerPlan,
  planDs,
  planNameServers,
} from '../desired/plan.ts'
import { toEpochSeconds } from '../epoch.ts'
import { ConflictError } from '../errors.ts'
import { newEvent, type WebhookEvent } from '../events/webhook-event.ts'
import type { DueItemStore } from '../ports/due-item-store.ts'
import { sendInTurn, sendSubmission } from '../tasks/send-submission.ts'
import type { SendDeps } from '../tasks/submit-deps.ts'
import { acquireAll, ticketOf } from '../tasks/target-locks.ts'
import { isTerminal, type Task, type TaskCommand, targetsOf } from '../tasks/task.ts'
import { enqueueAll } from '../tasks/task-queue.ts'
import { asIntent, holdUntil, newTask, queuedState, queueFull } from '../tasks/task-states.ts'
import { DomainManagedElsewhereError } from '../tenants/domain-assignment.ts'
import type { Change, ChangeKind, DesiredDs, DesiredNs } from './change.ts'
import type { DomainState, DomainStateStore } from './domain-state.ts'

export interface ChangeDeps extends SendDeps {
  readonly changes: DueItemStore<Change>
  readonly domainStates: DomainStateStore
  readonly events: DueItemStore<WebhookEvent>
  readonly registry: Pick<DomainApiClient, 'queryDsRecord' | 'queryDomain'>
  readonly newId: (prefix: 'tsk' | 'chg') => string
  /** How often a running change looks at its steps when nothing wakes it sooner. */
  readonly changeRecheckMs: number
}

export type ChangeRequest = {
  readonly tenant: string
  readonly keyId: string
  readonly domain: string
  readonly callbackUrl: string | undefined
  readonly trigger: Change['trigger']
  /**
   * The tenant is the domain's assigned manager: the domain's state, if another tenant wrote it
   * (before the assignment), becomes this tenant's.
   */
  readonly takeOver?: boolean | undefined
} & (
  | { readonly kind: 'ds'; readonly desired: DesiredDs }
  | { readonly kind: 'name-servers'; readonly desired: DesiredNs }
)

/** One step of a change as it is stored, so a crash before its task was written can be repaired. */
interface PlannedStep {
  readonly id: string
  readonly command: TaskCommand
  readonly after: readonly string[]
}

interface StoredChange extends Change {
  readonly planned: readonly PlannedStep[]
}

/** Another change of the same kind for the domain started while this one was being planned. */
export class ChangeRaceError extends ConflictError {
  override name = 'ChangeRaceError'
  constructor() {
    super(
      'Another change of this domain was started at the same moment; nothing was accepted. Plan again and retry.',
    )
  }
}

/**
 * The plan of a desired state against what the registry will hold when this change runs: the
 * registry now, or — when a change of the same kind is still running for the domain — that
 * change's desired state, after whose steps this one is queued.
 */
export async function planChange(
  deps: Pick<ChangeDeps, 'registry' | 'domainStates' | 'changes' | 'now'>,
  request: ChangeRequest,
): Promise<{
  plan: DsPlan | NameServerPlan
  state: DomainState | undefined
  open: StoredChange | undefined
  /** The change the domain named as open when it was read (running, being started, or stale). */
  openSeen: StoredChange | undefined
}> {
  const state = await deps.domainStates.get(request.domain)
  if (state && state.tenant !== request.tenant && !request.takeOver) {
    throw new DomainManagedElsewhereError()
  }
  const openId = state?.open?.[request.kind]
  const openSeen = openId
    ? ((await deps.changes.get(openId, deps.now())) as StoredChange | undefined)
    : undefined
  const running = openSeen?.status === 'running' ? openSeen : undefined
  if (request.kind === 'ds') {
    const current = running
      ? (running.desired as DesiredDs).records
      : (await deps.registry.queryDsRecord({ domainName: request.domain })).records
    return { plan: planDs(current, request.desired.records), state, open: running, openSeen }
  }
  const current = running
    ? desiredServers(running.desired as DesiredNs)
    : (await deps.registry.queryDomain({ domainName: request.domain })).nameServers
  return { plan: planNameServers(current, request.desired), state, open: running, openSeen }
}

/** What a name-server desired state looks like as a registry list (Alibaba's own when aliyunDns). */
function desiredServers(desired: DesiredNs): string[] {
  return desired.aliyunDns ? ['dns1.hichina.com', 'dns2.hichina.com'] : [...desired.nameServers]
}

function stepsOf(
  request: ChangeRequest,
  plan: DsPlan | NameServerPlan,
  newId: () => string,
  before: readonly string[],
): PlannedStep[] {
  const domain = request.domain
  if (request.kind === 'ds') {
    const { adds, deletes } = dsSteps(plan as DsPlan)
    const addSteps = adds.map((record) => ({
      id: newId(),
      command: { action: 'ds.add' as const, domain, record },
      after: before,
    }))
    // No remove before every add has succeeded: the domain always keeps a valid DS.
    const afterAdds = [...before, ...addSteps.map((step) => step.id)]
    const deleteSteps = deletes.map((keyTag) => ({
      id: newId(),
      command: { action: 'ds.delete' as const, domain, keyTag },
      after: afterAdds,
    }))
    return [...addSteps, ...deleteSteps]
  }
  const nsPlan = plan as NameServerPlan
  if (!nsPlan.change) return []
  return [
    {
      id: newId(),
      command: {
        action: 'dns.batch',
        domains: [domain],
        aliyunDns: nsPlan.desired.aliyunDns,
        nameServers: nsPlan.desired.nameServers,
      },
      after: before,
    },
  ]
}

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

/** A step's place in its domain's queue, fixed by the change (so it can be taken back). */
function stepTicket(change: StoredChange, index: number): string {
  return ticketOf(
    Date.parse(change.createdAt),
    index,
    change.planned[index]?.id ?? '',
    change.tenant,
  )
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

/** A step's place reserved in its targets' queues: a ticket, or the targets held. */
type Reserved = { readonly targets: readonly string[] } & (
  | { readonly ticket: string; readonly holder?: undefined }
  | { readonly holder: string; readonly ticket?: undefined }
)

async function giveBack(
  deps: Pick<ChangeDeps, 'targetLocks'>,
  reserved: readonly Reserved[],
): Promise<void> {
  await Promise.all(
    reserved.flatMap(({ targets, ticket, holder }) =>
      [...new Set(targets)].map((target) =>
        holder !== undefined
          ? deps.targetLocks.release(target, holder)
          : deps.targetLocks.dequeue(target, ticket),
      ),
    ),
  )
}

/**
 * Takes a proposal back: its tickets, the domain's mention of it (and the domain's state when the
 * proposal created it and nothing else was written since: still at its first version, holding
 * nothing else), then the change itself, left `withdrawn` with nothing due. Every part is harmless
 * to repeat.
 */
async function withdraw(
  deps: ChangeDeps,
  change: StoredChange,
  options: { readonly tickets: boolean },
): Promise<void> {
  if (options.tickets) {
    // Whatever it reserved: the first step's hold, if it took its domain, and every ticket.
    const first = change.planned[0]
    await giveBack(deps, [
      ...(first ? [{ targets: targetsOf(first.command), holder: first.id }] : []),
      ...change.planned.map((step, index) => ({
        targets: targetsOf(step.command),
        ticket: stepTicket(change, index),
      })),
    ])
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const state = await deps.domainStates.get(change.domain)
    if (!state || state.open?.[change.kind] !== change.id) break
    const { version, ...base } = state
    const open = { ...base.open }
    delete open[change.kind]
    const empty = !base.ds && !base.nameServers && !base.drift && Object.keys(open).length === 0
    if (empty && version === 1) {
      if (await deps.domainStates.remove(change.domain, version)) break
    } else if (await deps.domainStates.save({ ...base, open }, version)) break
  }
  const at = deps.now()
  const current = (await deps.changes.get(change.id, at)) as StoredChange | undefined
  if (current?.status !== 'proposed') return
  await deps.changes.replace(
    {
      ...current,
      status: 'withdrawn',
      updatedAt: new Date(at).toISOString(),
      dueAt: undefined,
      lease: undefined,
      expiresAt: toEpochSeconds(at + deps.settings.taskRetentionMs),
    },
    current.version,
  )
}

/**
 * Writes the steps of an accepted change not written yet, `queued` with the places reserved when it
 * was proposed — except a first step that took its domain then (`heldSince`): it is written as its
 * intent and sent at once. Its intent carries the clock reading taken before the domain was taken,
 * so its `sendBy` never lies beyond what the hold's `until` allows for (a process stalled past it
 * does not send: the step is proven unsent and sent again in its turn). A step repaired later (its process stopped) is written queued and sent in its turn
 * (`sendInTurn` finds the domain its own if it took it).
 */
async function writeSteps(
  deps: ChangeDeps,
  change: StoredChange,
  existing: readonly (Task | undefined)[],
  heldSince?: number,
): Promise<void> {
  const acceptedAt = Date.parse(change.createdAt)
  let first: Task | undefined
  for (const [index, step] of change.planned.entries()) {
    if (existing[index]) continue
    const task = newTask(
      {
        tenant: change.tenant,
        keyId: change.keyId,
        command: step.command,
        callbackUrl: change.callbackUrl,
      },
      step.id,
      acceptedAt,
      {
        changeId: change.id,
        after: step.after.length > 0 ? step.after : undefined,
        accepted: true,
      },
    )
    const leads = index === 0 && step.after.length === 0
    if (leads && heldSince !== undefined) {
      const intent = asIntent(deps, task, heldSince)
      if (await deps.tasks.create(intent)) await sendSubmission(deps, intent, { announced: true })
      continue
    }
    const reason = step.after.length > 0 ? 'after-steps' : 'target-busy'
    const queued = queuedState(deps, task, stepTicket(change, index), reason)
    // Written before (a step repaired twice): the stored one stands.
    if (!(await deps.tasks.create(queued))) continue
    if (leads) first = queued
  }
  // The first step goes now if its turn has come; else it waits in its turn.
  if (first) await sendInTurn(deps, first)
}

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
    }),
  )
  if (await deps.changes.replace(final, change.version)) {
    deps.logger.info('change finished', { changeId: change.id, status })
    return { ...final, version: change.version + 1 }
  }
  return (await deps.changes.get(change.id, deps.now())) ?? final
}

function changeEventData(change: Change, steps: readonly Task[]): Record<string, unknown> {
  return {
    id: change.id,
    domain: change.domain,
    kind: change.kind,
    status: change.status,
    trigger: change.trigger,
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

export type { ChangeKind }
