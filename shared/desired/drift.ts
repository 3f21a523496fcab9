import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import {
  type DsDrift,
  dsDrift,
  type NameServerDrift,
  nameServerDrift,
} from '../changes/desired-plan.ts'
import type { DomainState } from '../changes/domain-state.ts'

/** How a managed domain at the registry compares with its last applied desired state. */
export interface DriftReport {
  readonly domain: string
  readonly inSync: boolean
  /** Present when DS records are managed. */
  readonly ds?: (DsDrift & { readonly inSync: boolean }) | undefined
  /** Present when name servers are managed. */
  readonly nameServers?: NameServerDrift | undefined
  /** Kinds with a change still running: not judged until it ends. */
  readonly changing: readonly string[]
  readonly checkedAt: string
}

/** Reads the registry (only what the domain's desired state covers) and compares. */
export async function measureDrift(
  registry: Pick<DomainApiClient, 'queryDsRecord' | 'queryDomain'>,
  state: DomainState,
  now: number,
): Promise<DriftReport> {
  const changing = Object.entries(state.open ?? {})
    .filter(([, id]) => id !== undefined)
    .map(([kind]) => kind)
  const [ds, nameServers] = await Promise.all([
    state.ds && !changing.includes('ds')
      ? registry.queryDsRecord({ domainName: state.domain }).then((current) => {
          const drift = dsDrift(current.records, state.ds?.records ?? [])
          return { ...drift, inSync: drift.missing.length === 0 && drift.unexpected.length === 0 }
        })
      : undefined,
    state.nameServers && !changing.includes('name-servers')
      ? registry
          .queryDomain({ domainName: state.domain })
          .then((current) =>
            nameServerDrift(
              current.nameServers,
              state.nameServers ?? { aliyunDns: true, nameServers: [] },
            ),
          )
      : undefined,
  ])
  return {
    domain: state.domain,
    inSync: (ds?.inSync ?? true) && (nameServers?.inSync ?? true),
    ds,
    nameServers,
    changing,
    checkedAt: new Date(now).toISOString(),
  }
}
