import { createHash } from 'node:crypto'
import { changeInFlight, type DesiredDs, type DesiredNs } from '../changes/change.ts'
import type { ChangeDeps } from '../changes/change-request.ts'
import type { DomainState } from '../changes/domain-state.ts'
import { startChange } from '../changes/start-change.ts'
import { newEvent } from '../events/webhook-event.ts'
import { type DriftReport, measureDrift } from './drift.ts'

export interface DriftCheckStats {
  checked: number
  drifted: number
  returned: number
  repairs: number
  failed: number
}

/**
 * The scheduled drift check: walks every managed domain (paged), compares the registry with the
 * last applied desired state, and when a domain goes out of sync sends one `domain.drifted`
 * webhook (not one per run) and `domain.in_sync` when it returns. Where the desired state says
 * `repair`, it applies that state again as a change — unless a change is already running.
 */
export async function runDriftCheck(
  deps: ChangeDeps,
  options: { readonly deadline?: number; readonly pageSize?: number } = {},
): Promise<DriftCheckStats> {
  const stats: DriftCheckStats = { checked: 0, drifted: 0, returned: 0, repairs: 0, failed: 0 }
  let start: Record<string, unknown> | undefined
  do {
    const page = await deps.domainStates.list(options.pageSize ?? 50, start)
    for (const state of page.items) {
      if (options.deadline !== undefined && deps.now() > options.deadline) return stats
      await checkDomain(deps, state, stats).catch((error: unknown) => {
        stats.failed++
        deps.logger.warn('drift check of a domain failed; the next run tries again', {
          domain: state.domain,
          error,
        })
      })
    }
    start = page.next
  } while (start)
  return stats
}

/** The id of the n-th drift event of a domain: a retried check writes it only once. */
function driftEventId(domain: string, n: number): string {
  const digest = createHash('sha256').update(domain).digest('hex').slice(0, 20)
  return `evt_d${digest}n${n}`
}

async function checkDomain(
  deps: ChangeDeps,
  state: DomainState,
  stats: DriftCheckStats,
): Promise<void> {
  if (!state.ds && !state.nameServers) return
  const now = deps.now()
  // A change marked open that is no longer running (its close was lost) does not hold drift back.
  const open: Record<string, string> = {}
  for (const [kind, id] of Object.entries(state.open ?? {})) {
    if (id && changeInFlight(await deps.changes.get(id, now))) open[kind] = id
  }
  const report = await measureDrift(deps.registry, { ...state, open }, now)
  const judged =
    (state.ds && !report.changing.includes('ds')) ||
    (state.nameServers && !report.changing.includes('name-servers'))
  if (!judged) return
  stats.checked++
  const wasInSync = state.drift?.inSync ?? true
  if (report.inSync !== wasInSync) {
    const reported = (state.drift?.reported ?? 0) + 1
    await deps.events.create(
      newEvent({
        id: driftEventId(state.domain, reported),
        tenant: state.tenant,
        keyId: state.keyId,
        type: report.inSync ? 'domain.in_sync' : 'domain.drifted',
        data: report as unknown as Record<string, unknown>,
        url: state.callbackUrl,
        at: now,
        retentionMs: deps.settings.taskRetentionMs,
        sequence: await deps.eventSequence.next(state.domain),
      }),
    )
    const { version, ...rest } = state
    const iso = new Date(now).toISOString()
    await deps.domainStates.save(
      { ...rest, drift: { inSync: report.inSync, since: iso, checkedAt: iso, reported } },
      version,
    )
    if (report.inSync) stats.returned++
    else stats.drifted++
    deps.logger.info(report.inSync ? 'domain back in sync' : 'domain drifted', {
      domain: state.domain,
    })
  }
  if (!report.inSync) await repair(deps, state, report, stats)
}

/** Applies the desired state again for each drifted part that asks for it. */
async function repair(
  deps: ChangeDeps,
  state: DomainState,
  report: DriftReport,
  stats: DriftCheckStats,
): Promise<void> {
  const base = {
    tenant: state.tenant,
    keyId: state.keyId,
    domain: state.domain,
    callbackUrl: state.callbackUrl,
    trigger: 'repair' as const,
  }
  if (state.ds?.repair && report.ds && !report.ds.inSync) {
    const desired: DesiredDs = { records: state.ds.records, repair: true }
    await startChange(deps, { ...base, kind: 'ds', desired })
    stats.repairs++
  }
  if (state.nameServers?.repair && report.nameServers && !report.nameServers.inSync) {
    const desired: DesiredNs = {
      aliyunDns: state.nameServers.aliyunDns,
      nameServers: state.nameServers.nameServers,
      repair: true,
    }
    await startChange(deps, { ...base, kind: 'name-servers', desired })
    stats.repairs++
  }
}
