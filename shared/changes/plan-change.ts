import { DomainManagedElsewhereError } from '../tenants/domain-assignment.ts'
import type { DesiredDs, DesiredNs } from './change.ts'
import type { ChangeDeps, ChangeRequest, PlannedStep, StoredChange } from './change-request.ts'
import {
  type DsPlan,
  dsSteps,
  type NameServerPlan,
  planDs,
  planNameServers,
} from './desired-plan.ts'
import type { DomainState } from './domain-state.ts'

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

export function stepsOf(
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
