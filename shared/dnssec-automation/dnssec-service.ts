import { createHash } from 'node:crypto'
import { type Change, changeInFlight } from '../changes/change.ts'
import type { ChangeDeps } from '../changes/change-request.ts'
import { startChange } from '../changes/start-change.ts'
import { checkBootstrapSignals, type SignalOutcome } from '../dns/bootstrap-signal.ts'
import { ChainValidator, type TrustAnchor } from '../dns/chain-of-trust.ts'
import type { DnsAnswer, DnsServer } from '../dns/dns-client.ts'
import type { DsRecord } from '../dns/dnskey.ts'
import { canonicalName, dsOf } from '../dns/dnssec-records.ts'
import { NameServerLookupError } from '../dns/name-servers.ts'
import { type ScanOutcome, scanZone } from '../dns/scan-zone.ts'
import { type EventType, newEvent } from '../events/webhook-event.ts'
import type { DnssecState, DnssecStateStore } from './dnssec-state.ts'
import { decideRollover, type RolloverDecision, type RolloverPhase } from './rollover.ts'

export interface DnssecDeps extends ChangeDeps {
  readonly dnssecStates: DnssecStateStore
  /** The authoritative servers of a zone (DNS_SERVER_OVERRIDES, or looked up and policed). */
  readonly serversFor: (zone: string) => Promise<DnsServer[]>
  readonly query: (
    server: DnsServer,
    name: string,
    type: 'DNSKEY' | 'CDS' | 'CDNSKEY' | 'DS' | 'NS',
    options?: { tcp?: boolean },
  ) => Promise<DnsAnswer>
  readonly dnssec: {
    /** A rollover waiting longer than this in one phase sends `dnssec.rollover.stuck`, once. */
    readonly stuckAfterMs: number
    /** Identical scans over TCP needed before an unsigned delegation's first DS is added. */
    readonly bootstrapScans: number
    /** Where RFC 9615 signals' chains of trust start. */
    readonly trustAnchors: readonly TrustAnchor[]
  }
}

export interface ScanReport {
  readonly domain: string
  readonly ok: boolean
  readonly phase: RolloverPhase
  readonly action: 'none' | 'submitted' | 'refused' | 'failed'
  readonly reason?: string | undefined
  readonly changeId?: string | undefined
}

const normal = (records: readonly DsRecord[]) =>
  records.map((ds) => ({ ...ds, digest: ds.digest.toLowerCase() }))

const parentOf = (domain: string) => domain.split('.').slice(1).join('.')

/** A lookup that cannot find a zone's servers is a failed scan, recorded like any other. */
async function lookedUp<T>(
  lookup: () => Promise<T>,
  what: string,
): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
  try {
    return { ok: true, value: await lookup() }
  } catch (error) {
    if (!(error instanceof NameServerLookupError)) throw error
    return { ok: false, reason: `${what}: ${error.message}` }
  }
}

/** The DS set the parent's servers serve for the child (they must agree), and its TTL. */
async function parentView(deps: DnssecDeps, domain: string) {
  const servers = await deps.serversFor(parentOf(domain))
  const views = await Promise.all(servers.map((server) => deps.query(server, domain, 'DS')))
  const sets = views.map((view) => view.records.map(dsOf))
  const keyOf = (set: DsRecord[]) =>
    set
      .map((ds) => `${ds.keyTag}/${ds.digest}`)
      .sort()
      .join(',')
  // Until every parent server serves the same set, nothing counts as published.
  const first = sets[0] ?? []
  const records = sets.every((set) => keyOf(set) === keyOf(first)) ? first : []
  const ttls = views.flatMap((view) =>
    view.records.map((record) => (record as { ttl?: number }).ttl ?? 0),
  )
  return { records, ttlSeconds: ttls.length > 0 ? Math.max(...ttls) : 0 }
}

type ParentView = Awaited<ReturnType<typeof parentView>>

/** The child's name servers as its parent delegates to them (the referral's NS names). */
async function delegatedNameServers(deps: DnssecDeps, domain: string): Promise<string[]> {
  for (const server of await deps.serversFor(parentOf(domain))) {
    const answer = await deps.query(server, domain, 'NS')
    if (answer.referral?.zone === domain) return [...answer.referral.nameServers]
    if (answer.authoritative && answer.records.length > 0) {
      return answer.records.map((record) => canonicalName((record as { data: string }).data))
    }
  }
  return []
}

/** Whether the DNS operator's RFC 9615 signals authenticate the child's CDS/CDNSKEY. */
async function bootstrapSignal(
  deps: DnssecDeps,
  domain: string,
  apex: Extract<ScanOutcome, { ok: true }>['apex'],
  now: number,
): Promise<SignalOutcome> {
  try {
    const chain = new ChainValidator({
      anchors: deps.dnssec.trustAnchors,
      serversFor: deps.serversFor,
      query: (server, name, type) => deps.query(server, name, type),
      nowSeconds: Math.floor(now / 1000),
    })
    return await checkBootstrapSignals(
      chain,
      domain,
      await delegatedNameServers(deps, domain),
      apex,
    )
  } catch (error) {
    return {
      ok: false,
      contradicts: false,
      reason: `the delegation's name servers could not be read: ${(error as Error).message}`,
    }
  }
}

/** The child's scan and, when it succeeds, the parent's view; a missing NS set fails the scan. */
async function scanWithParent(
  deps: DnssecDeps,
  state: DnssecState,
  registry: readonly DsRecord[],
  bootstrapping: boolean,
  now: number,
): Promise<
  | (Extract<ScanOutcome, { ok: true }> & { parent: ParentView })
  | Extract<ScanOutcome, { ok: false }>
> {
  const domain = state.domain
  const servers = await lookedUp(() => deps.serversFor(domain), "the zone's servers")
  if (!servers.ok) return { ok: false, reason: servers.reason, servers: [] }
  const zone = await scanZone(
    domain,
    servers.value,
    (server, name, type) => deps.query(server, name, type, { tcp: bootstrapping }),
    registry,
    { nowSeconds: Math.floor(now / 1000), bootstrap: state.bootstrap },
  )
  if (!zone.ok) return zone
  const parent = await lookedUp(() => parentView(deps, domain), "the parent's servers")
  if (!parent.ok)
    return { ok: false, reason: parent.reason, servers: zone.servers, keys: zone.keys }
  return { ...zone, parent: parent.value }
}

function eventId(domain: string, version: number, type: EventType): string {
  const digest = createHash('sha256')
    .update(`${domain}|${version}|${type}`)
    .digest('hex')
    .slice(0, 24)
  return `evt_k${digest}`
}

type Scanned = Awaited<ReturnType<typeof scanWithParent>>
type GoodScan = Extract<Scanned, { ok: true }>
type FailedScan = Extract<Scanned, { ok: false }>
type StepEvent = { readonly type: EventType; readonly data: Record<string, unknown> }

/** What one scan decided: the enrolment's next state, the events it reports, the answer. */
interface Step {
  readonly next: Omit<DnssecState, 'version'>
  readonly events: readonly StepEvent[]
  readonly report: ScanReport
}

/** A scan that could not read the zone: recorded, and reported once until one succeeds. */
function failedScan(
  state: DnssecState,
  scan: FailedScan,
  registry: readonly DsRecord[],
  now: number,
): Step {
  const { version: _version, ...base } = state
  const { domain } = state
  const reason = scan.reason
  return {
    next: {
      ...base,
      lastScan: {
        at: new Date(now).toISOString(),
        ok: false,
        reason,
        servers: scan.servers,
        keys: scan.keys ?? [],
        cds: [],
        registry,
      },
      failureReported: true,
    },
    events: state.failureReported
      ? []
      : [{ type: 'dnssec.scan.failed', data: { domain, reason, servers: scan.servers } }],
    report: { domain, ok: false, phase: state.phase, action: 'failed', reason },
  }
}

/** The enrolment as a good scan leaves it, before any step: what was seen, failures forgotten. */
function scanned(
  state: DnssecState,
  scan: GoodScan,
  registry: readonly DsRecord[],
  now: number,
): Omit<DnssecState, 'version'> {
  const { version: _version, ...base } = state
  const lastScan = {
    at: new Date(now).toISOString(),
    ok: true,
    servers: scan.servers,
    keys: scan.keys,
    cds: scan.desired === 'none' ? [] : scan.desired,
    registry,
    parent: scan.parent,
  }
  return { ...base, lastScan, failureReported: false }
}

/** Why nothing may be stepped now, whatever the zone asks: an answer, or undefined to go on. */
function nothingToStep(
  state: DnssecState,
  scan: GoodScan,
  next: Omit<DnssecState, 'version'>,
  openChange: Change | undefined,
): Step | undefined {
  const waiting = (waitReason: string, action: ScanReport['action']): Step => ({
    next: { ...next, waitReason },
    events: [],
    report: { domain: state.domain, ok: true, phase: state.phase, action, reason: waitReason },
  })
  if (scan.desired === 'none') {
    return waiting('the zone publishes no CDS or CDNSKEY: nothing to change', 'none')
  }
  if (scan.desired === 'delete' && !state.allowDelete) {
    return waiting('the zone asks to delete every DS; not enabled for this domain', 'refused')
  }
  if (openChange && changeInFlight(openChange)) {
    return waiting(`change ${openChange.id} is running`, 'none')
  }
  return undefined
}

/**
 * An unsigned delegation's first DS: allowed at once by an authenticated RFC 9615 signal, or
 * after enough identical scans over TCP (unless the enrolment asks for the signal); `wait` says
 * why not yet, `by` what allowed it.
 */
async function bootstrapGate(
  deps: DnssecDeps,
  state: DnssecState,
  scan: GoodScan,
  desired: readonly DsRecord[],
  next: Omit<DnssecState, 'version'>,
  now: number,
): Promise<{
  readonly next: Omit<DnssecState, 'version'>
  readonly wait?: RolloverDecision | undefined
  readonly by?: 'signal' | 'scans' | undefined
}> {
  // RFC 9615 first: the DNS operator's authenticated signal makes the first DS safe at once.
  const signal = await bootstrapSignal(deps, state.domain, scan.apex, now)
  const digest = desired
    .map((ds) => `${ds.keyTag}/${ds.digest}`)
    .sort()
    .join(',')
  const seen = state.bootstrapDigest === digest ? (state.bootstrapScans ?? 0) + 1 : 1
  const after = {
    ...next,
    lastScan: {
      ...(next.lastScan as NonNullable<DnssecState['lastScan']>),
      signal: signal.ok ? { ok: true, names: signal.names } : { ok: false, reason: signal.reason },
    },
    bootstrapScans: seen,
    bootstrapDigest: digest,
  }
  if (signal.ok) return { next: after, by: 'signal' }
  if (signal.contradicts) {
    return {
      next: after,
      wait: { kind: 'refuse', reason: `bootstrapping stopped: ${signal.reason}` },
    }
  }
  if (state.requireSignal) {
    const reason = `bootstrapping: waiting for an authenticated RFC 9615 signal (${signal.reason})`
    return { next: after, wait: { kind: 'wait', phase: 'idle', reason } }
  }
  if (seen < deps.dnssec.bootstrapScans) {
    const reason = `bootstrapping: waiting for more identical scans over TCP (no authenticated signal: ${signal.reason})`
    return { next: after, wait: { kind: 'wait', phase: 'idle', reason } }
  }
  return { next: after, by: 'scans' }
}

/** The step a rollover decision takes: a change started, a wait recorded, or the phase closed. */
async function take(
  deps: DnssecDeps,
  state: DnssecState,
  decision: RolloverDecision,
  step: {
    readonly next: Omit<DnssecState, 'version'>
    readonly desired: readonly DsRecord[]
    readonly parent: GoodScan['parent']
    readonly bootstrappedBy: 'signal' | 'scans' | undefined
    readonly iso: string
  },
): Promise<Step> {
  const { domain } = state
  const { next, desired, parent, iso } = step
  switch (decision.kind) {
    case 'refuse':
      return {
        next: { ...next, waitReason: decision.reason },
        events: [],
        report: {
          domain,
          ok: true,
          phase: state.phase,
          action: 'refused',
          reason: decision.reason,
        },
      }
    case 'apply': {
      const change = await startChange(deps, {
        tenant: state.tenant,
        keyId: state.keyId,
        domain,
        callbackUrl: state.callbackUrl,
        trigger: 'dnssec',
        kind: 'ds',
        desired: { records: decision.records, repair: false },
      })
      const by = step.bootstrappedBy
      return {
        next: {
          ...next,
          phase: decision.phase,
          phaseSince: iso,
          changeId: change.id,
          waitReason: undefined,
          publishedSince: decision.phase === 'adding' ? undefined : state.publishedSince,
          stuckReported: false,
        },
        events:
          decision.phase === 'adding'
            ? [
                {
                  type: 'dnssec.ds.submitted',
                  data: {
                    domain,
                    changeId: change.id,
                    records: decision.records,
                    ...(by ? { bootstrap: by } : {}),
                  },
                },
              ]
            : [],
        report: {
          domain,
          ok: true,
          phase: decision.phase,
          action: 'submitted',
          changeId: change.id,
        },
      }
    }
    case 'wait': {
      const changed = decision.phase !== state.phase
      const published = decision.publishedSince !== undefined && state.publishedSince === undefined
      return {
        next: {
          ...next,
          phase: decision.phase,
          phaseSince: changed ? iso : (state.phaseSince ?? iso),
          waitReason: decision.reason,
          publishedSince: decision.publishedSince,
        },
        events: published
          ? [{ type: 'dnssec.ds.published', data: { domain, records: desired, parent } }]
          : [],
        report: {
          domain,
          ok: true,
          phase: decision.phase,
          action: 'none',
          reason: decision.reason,
        },
      }
    }
    case 'in-sync': {
      const events: StepEvent[] = []
      if (state.phase !== 'idle') {
        if (state.publishedSince === undefined) {
          events.push({ type: 'dnssec.ds.published', data: { domain, records: desired, parent } })
        }
        events.push({ type: 'dnssec.rollover.completed', data: { domain, records: desired } })
      }
      return {
        next: {
          ...next,
          phase: 'idle',
          phaseSince: iso,
          waitReason: undefined,
          publishedSince: undefined,
          stuckReported: false,
        },
        events,
        report: { domain, ok: true, phase: 'idle', action: 'none' },
      }
    }
  }
}

/** After a good scan: the step the zone, the registry and the parent allow now. */
async function stepAfterScan(
  deps: DnssecDeps,
  state: DnssecState,
  scan: GoodScan,
  registry: readonly DsRecord[],
  now: number,
): Promise<Step> {
  let next = scanned(state, scan, registry, now)
  const openChange = state.changeId ? await deps.changes.get(state.changeId, now) : undefined
  const early = nothingToStep(state, scan, next, openChange)
  if (early) return early
  const desired = scan.desired === 'delete' ? [] : normal(scan.desired as readonly DsRecord[])
  let wait: RolloverDecision | undefined
  let bootstrappedBy: 'signal' | 'scans' | undefined
  if (registry.length === 0 && desired.length > 0) {
    const gate = await bootstrapGate(deps, state, scan, desired, next, now)
    next = gate.next
    wait = gate.wait
    bootstrappedBy = gate.by
  }
  const { parent } = scan
  const decision =
    wait ??
    decideRollover({
      desired,
      keys: scan.keys,
      registry,
      parent,
      publishedSince: state.publishedSince,
      now,
    })
  return take(deps, state, decision, {
    next,
    desired,
    parent,
    bootstrappedBy,
    iso: new Date(now).toISOString(),
  })
}

/** A rollover that has not moved for too long is reported once. */
function reportStuck(step: Step, now: number, stuckAfterMs: number): Step {
  const { next } = step
  const since = next.phaseSince ? Date.parse(next.phaseSince) : now
  if (next.phase === 'idle' || now - since <= stuckAfterMs || next.stuckReported) return step
  return {
    ...step,
    next: { ...next, stuckReported: true },
    events: [
      ...step.events,
      {
        type: 'dnssec.rollover.stuck',
        data: {
          domain: next.domain,
          phase: next.phase,
          since: next.phaseSince,
          reason: next.waitReason,
        },
      },
    ],
  }
}

/** The step's events (one per state it reports: their ids come from the state's version), then the state. */
async function record(deps: DnssecDeps, state: DnssecState, step: Step, now: number) {
  for (const event of step.events) {
    await deps.events.create(
      newEvent({
        id: eventId(state.domain, state.version, event.type),
        tenant: state.tenant,
        keyId: state.keyId,
        type: event.type,
        data: event.data,
        url: state.callbackUrl,
        at: now,
        retentionMs: deps.settings.taskRetentionMs,
        // In the order the scan found them: published before completed.
        sequence: await deps.eventSequence.next(state.domain),
      }),
    )
  }
  await deps.dnssecStates.save(step.next, state.version)
}

/**
 * One scan of an enrolled domain and the step it allows: read the registry's DS set, scan the
 * child's servers, check the parent, and add or remove DS records through a desired-state change
 * (so every add still runs before any remove, through the domain's queue). Every event is sent
 * once per state it reports.
 */
export async function scanAndStep(deps: DnssecDeps, state: DnssecState): Promise<ScanReport> {
  const now = deps.now()
  const domain = state.domain
  const registry = normal((await deps.registry.queryDsRecord({ domainName: domain })).records)
  const bootstrapping = registry.length === 0
  const scan = await scanWithParent(deps, state, registry, bootstrapping, now)
  const step = scan.ok
    ? await stepAfterScan(deps, state, scan, registry, now)
    : failedScan(state, scan, registry, now)
  const final = reportStuck(step, now, deps.dnssec.stuckAfterMs)
  await record(deps, state, final, now)
  return final.report
}

/** The scheduled scan: every enrolled domain in `cds` mode, one at a time. */
export async function runDnssecScans(
  deps: DnssecDeps,
  options: { readonly deadline?: number } = {},
): Promise<{ scanned: number; failed: number }> {
  const stats = { scanned: 0, failed: 0 }
  let start: Record<string, unknown> | undefined
  do {
    const page = await deps.dnssecStates.list(50, start)
    for (const state of page.items) {
      if (state.mode !== 'cds') continue
      if (options.deadline !== undefined && deps.now() > options.deadline) return stats
      stats.scanned++
      const report = await scanAndStep(deps, state).catch((error: unknown) => {
        deps.logger.warn('DNSSEC scan failed', { domain: state.domain, error })
        return undefined
      })
      if (!report?.ok) stats.failed++
    }
    start = page.next
  } while (start)
  return stats
}
