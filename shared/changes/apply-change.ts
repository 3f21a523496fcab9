import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import {
  type DsPlan,
  dsSteps,
  type NameServerPlan,
  planDs,
  planNameServers,
} from '../desired/plan.ts'
import { ConflictError } from '../errors.ts'
import { newEvent, type WebhookEvent } from '../events/webhook-event.ts'
import type { DomainState, DomainStateStore } from '../store/domain-state-store.ts'
import type { DueItemStore } from '../store/due-item-store.ts'
import { toEpochSeconds } from '../store/dynamodb.ts'
import { acquireAll } from '../store/target-lock-store.ts'
import {
  asIntent,
  enqueueTask,
  holdUntil,
  newTask,
  type SendDeps,
  sendSubmission,
} from '../tasks/submit-task.ts'
import { isTerminal, type Task, type TaskCommand } from '../tasks/task.ts'
import type { Change, ChangeKind, DesiredDs, DesiredNs } from './change.ts'

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

/** The domain is managed by another tenant: it may neither see nor change its desired state. */
export class DomainManagedElsewhereError extends ConflictError {
  override name = 'DomainManagedElsewhereError'
  constructor() {
    super('This domain is managed by another tenant of the gateway.')
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
}> {
  const state = await deps.domainStates.get(request.domain)
  if (state && state.tenant !== request.tenant) throw new DomainManagedElsewhereError()
  const openId = state?.open?.[request.kind]
  const open = openId
    ? ((await deps.changes.get(openId, deps.now())) as StoredChange | undefined)
    : undefined
  const running = open?.status === 'running' ? open : undefined
  if (request.kind === 'ds') {
    const current = running
      ? (running.desired as DesiredDs).records
      : (await deps.registry.queryDsRecord({ domainName: request.domain })).records
    return { plan: planDs(current, request.desired.records), state, open: running }
  }
  const current = running
    ? desiredServers(running.desired as DesiredNs)
    : (await deps.registry.queryDomain({ domainName: request.domain })).nameServers
  return { plan: planNameServers(current, request.desired), state, open: running }
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
 * Starts applying a desired state: plans it, writes the change (with its steps' commands, so a
 * crash before they are written is repaired by the poller), marks it open on the domain, and
 * writes its steps: the first one sent at once when the domain is free, the others queued in
 * order behind it. A change with nothing to do is final at once.
 */
export async function startChange(deps: ChangeDeps, request: ChangeRequest): Promise<Change> {
  const { plan, state, open } = await planChange(deps, request)
  const at = deps.now()
  const iso = new Date(at).toISOString()
  const planned = stepsOf(request, plan, () => deps.newId('tsk'), open?.steps ?? [])
  const change: StoredChange = {
    id: deps.newId('chg'),
    version: 1,
    tenant: request.tenant,
    keyId: request.keyId,
    domain: request.domain,
    kind: request.kind,
    status: 'running',
    plan,
    desired: request.desired,
    steps: planned.map((step) => step.id),
    planned,
    callbackUrl: request.callbackUrl,
    trigger: request.trigger,
    createdAt: iso,
    updatedAt: iso,
    dueAt: at + deps.changeRecheckMs,
  }
  if (!(await deps.changes.create(change))) throw new Error(`change id ${change.id} is taken`)
  await markOpen(deps, request, state, change.id)
  if (planned.length === 0) {
    return settleChange(deps, { ...change, version: 1 })
  }
  await writeSteps(deps, change, [])
  return change
}

/** Records the change as the domain's open one of its kind (creating the domain's state). */
async function markOpen(
  deps: ChangeDeps,
  request: ChangeRequest,
  state: DomainState | undefined,
  changeId: string,
): Promise<void> {
  let current = state
  for (let attempt = 0; attempt < 5; attempt++) {
    const { version: _version, ...base } = current ?? {
      domain: request.domain,
      tenant: request.tenant,
      keyId: request.keyId,
      version: 0,
    }
    const next = {
      ...base,
      keyId: request.trigger === 'api' ? request.keyId : base.keyId,
      callbackUrl: request.trigger === 'api' ? request.callbackUrl : base.callbackUrl,
      open: { ...base.open, [request.kind]: changeId },
    }
    if (await deps.domainStates.save(next, current?.version)) return
    current = await deps.domainStates.get(request.domain)
    if (current && current.tenant !== request.tenant) throw new DomainManagedElsewhereError()
  }
  throw new ConflictError('The domain state kept changing; try again.')
}

/** Writes the steps not written yet, in order: queued (the first one sent when the domain is free). */
async function writeSteps(
  deps: ChangeDeps,
  change: StoredChange,
  existing: readonly (Task | undefined)[],
): Promise<void> {
  const acceptedAt = Date.parse(change.createdAt)
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
      { changeId: change.id, after: step.after.length > 0 ? step.after : undefined },
    )
    const first = index === 0 && step.after.length === 0 && existing.length === 0
    if (first && (await sendNow(deps, task))) continue
    await enqueueTask(deps, task, index, step.after.length > 0 ? 'after-steps' : 'target-busy')
  }
}

/** The fast path of a first step: its domain is free and nobody waits, so it is sent now. */
async function sendNow(deps: ChangeDeps, task: Task): Promise<boolean> {
  const intentAt = deps.now()
  const targets = task.details.map((detail) => detail.target)
  if (!(await acquireAll(deps.targetLocks, targets, task.id, holdUntil(deps, intentAt)))) {
    return false
  }
  const intent = asIntent(deps, task, intentAt)
  if (!(await deps.tasks.create(intent))) return true
  await sendSubmission(deps, intent, { announced: true })
  return true
}

/**
 * Moves a running change on (the poller calls it when the change falls due): writes steps a crash
 * left unwritten, waits while any step is open, and once all are final, records the desired state
 * as applied (only if every step succeeded), closes the change on the domain, and sends one
 * `change.succeeded` or `change.failed` webhook.
 */
export async function settleChange(deps: ChangeDeps, held: Change): Promise<Change> {
  const change = held as StoredChange
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
