/** A submission's task searched for upstream, and from when it is proven absent or never sent. */
import { toEpochSeconds } from '../epoch.ts'
import { serviceTimeCandidates } from './service-time.ts'
import type { Task, TaskAction } from './task.ts'
import type { TaskLifeDeps, TaskLifeSettings } from './task-life.ts'

/**
 * Task types the public documents name (Domain API, QueryTaskList / QueryTaskDetailList). A
 * candidate with one of them belongs to the action it is documented for; the gateway submits only
 * `CHG_DNS` (the name-server batch) and `SYNC_DNSHOST` of them. The DS actions' types are not
 * documented anywhere: a type outside this list — or none — never excludes a candidate.
 */
export const DOCUMENTED_TASK_TYPES: ReadonlySet<string> = new Set([
  'CHG_HOLDER',
  'CHG_DNS',
  'SET_WHOIS_PROTECT',
  'UPDATE_ADMIN_CONTACT',
  'UPDATE_BILLING_CONTACT',
  'UPDATE_TECH_CONTACT',
  'SET_UPDATE_PROHIBITED',
  'SET_TRANSFER_PROHIBITED',
  'ORDER_ACTIVATE',
  'ORDER_RENEW',
  'ORDER_REDEEM',
  'CREATE_DNSHOST',
  'UPDATE_DNSHOST',
  'SYNC_DNSHOST',
])

/** The documented type of the task each action creates, where one is documented. */
const DOCUMENTED_TYPE_OF: Partial<Record<TaskAction, string>> = {
  'dns.batch': 'CHG_DNS',
  'dnshost.sync': 'SYNC_DNSHOST',
}

/**
 * Whether a candidate's type allows it to be this action's task: only a documented type of
 * another action excludes it.
 */
function typeMayMatch(action: TaskAction, taskType: string | undefined): boolean {
  if (!taskType || !DOCUMENTED_TASK_TYPES.has(taskType)) return true
  return DOCUMENTED_TYPE_OF[action] === taskType
}

/** Service time strings have one-second resolution. */
const TIME_RESOLUTION_MS = 1_000
/** A listing read this recently is used again by a search that does not need a verdict. */
const LISTING_REUSE_MS = 5_000

type ReconcileSettings = Pick<
  TaskLifeSettings,
  'sendWindowMs' | 'timestampWindowMs' | 'maxClockSkewMs' | 'absenceMarginMs'
>

/** The latest instant at which this task's `Save*` attempts could have been signed. */
function sendByOf(settings: Pick<TaskLifeSettings, 'sendWindowMs'>, task: Task): number {
  // Intents written before `sendBy` existed: the old code sent within seconds of the intent.
  return task.sendBy ?? Date.parse(task.createdAt) + settings.sendWindowMs
}

/**
 * From this instant (our clock) no upstream task can still appear for the submission: every
 * attempt was signed by `sendBy`, the service refuses a request whose Timestamp is more than its
 * window from its clock, that clock is within `maxClockSkewMs` of ours (the client refuses to send
 * otherwise), and `absenceMarginMs` covers the service's own processing and listing delay.
 */
export function absenceProvableAfter(settings: ReconcileSettings, task: Task): number {
  return sendByOf(settings, task) + absenceAfterSendByMs(settings)
}

/**
 * From this instant (our clock), a submission whose targets are then read as not all held was
 * never sent and never will be: it is sent only while it holds them all, a target held by a task
 * that is not final is never released or given to another, and its process signs no attempt after
 * `sendBy` by its own clock (the client refuses), which is within `maxClockSkewMs` of the
 * service's (the client refuses to send otherwise) and so within twice that of ours.
 */
export function unheldNeverSentAfter(
  settings: Pick<TaskLifeSettings, 'sendWindowMs' | 'maxClockSkewMs'>,
  task: Task,
): number {
  return sendByOf(settings, task) + 2 * settings.maxClockSkewMs
}

/** How long after `sendBy` absence becomes provable; a submission's target lock lives as long. */
export function absenceAfterSendByMs(
  settings: Pick<TaskLifeSettings, 'timestampWindowMs' | 'maxClockSkewMs' | 'absenceMarginMs'>,
): number {
  return settings.timestampWindowMs + settings.maxClockSkewMs + settings.absenceMarginMs
}

/** What one scan found: the adopted TaskNo, and whether the scan can support a verdict of absence. */
interface UpstreamSearch {
  readonly taskNo?: string | undefined
  /** Candidates skipped as too young to adopt: while there are any, absence is not proven. */
  readonly tooYoung: number
  /**
   * False when the scan could not read every page of the listing or every candidate's details
   * (the page cap, an error, the time budget): it then supports no verdict, and `reason` says why.
   */
  readonly complete: boolean
  readonly reason?: string | undefined
  /** When the listing this scan used started to be read (a verdict needs it after the window). */
  readonly listedAt: number
  /** Upstream calls this search made (a listing shared with another search counts for one). */
  readonly calls: number
}

/**
 * Looks for the upstream task a `submitting` task may have created, without ever submitting, and
 * without assuming anything the documents leave open (list order, DS task-type names):
 * - `QueryTaskList` over the service days of the window — every page, in whatever order the
 *   service lists (see {@link UpstreamListing}); a listing that could not be read whole makes the
 *   search incomplete;
 * - candidates created in the window (from the intent less the clock-skew bound to the moment
 *   absence is provable), of a type that may be this action's, with as many domains;
 * - each candidate's domains or instance from `QueryTaskDetailList` (kept per TaskNo: they never
 *   change), matching the task's targets exactly.
 * A match is adopted only if its TaskNo can be claimed (a conditional write), so no two gateway
 * tasks adopt the same one.
 */
export async function findUpstreamTask(
  deps: Pick<TaskLifeDeps, 'upstream' | 'taskNos' | 'now' | 'settings' | 'listing'>,
  task: Task,
): Promise<UpstreamSearch> {
  // A queued task's intent comes after its creation; no attempt was signed before the intent.
  const createdAt = task.intentAt ?? Date.parse(task.createdAt)
  const targets = task.details.map((detail) => detail.target)
  const windowStart = createdAt - deps.settings.maxClockSkewMs - TIME_RESOLUTION_MS
  const windowEnd = absenceProvableAfter(deps.settings, task)
  const now = deps.now()
  // A verdict needs a listing read after the window closed; before that any recent one will do.
  const notBefore =
    now >= windowEnd ? windowEnd : now - Math.min(LISTING_REUSE_MS, deps.settings.reconcileRetryMs)
  const listing = await deps.listing.list(deps.upstream, {
    from: windowStart,
    to: Math.min(windowEnd, now),
    notBefore,
    deadline: now + deps.settings.leaseMs / 2,
    now: deps.now,
  })
  let calls = listing.calls
  // A creation time that can be read must fall in the window; one that cannot does not exclude.
  const inWindow = (text: string | undefined) => {
    const instants = serviceTimeCandidates(text)
    return instants.length === 0 || instants.some((at) => at >= windowStart && at <= windowEnd)
  }
  const candidates = listing.tasks.filter(
    (candidate) =>
      inWindow(candidate.createTime) &&
      typeMayMatch(task.action, candidate.taskType) &&
      (candidate.domainCount === undefined || candidate.domainCount === targets.length),
  )
  let tooYoung = 0
  let unread: string | undefined
  for (const candidate of candidates) {
    let found: readonly string[]
    try {
      const read = await deps.listing.targetsOf(deps.upstream, candidate.taskNo)
      calls += read.calls
      found = read.targets
    } catch (error) {
      unread = `the details of ${candidate.taskNo} could not be read (${errorCode(error)})`
      continue
    }
    const matches =
      found.length === targets.length && targets.every((target) => found.includes(target))
    if (!matches) continue
    // Too young to be sure that no live submission is about to record it as its own: not yet,
    // and no verdict of absence from this scan either. Judged by the clock now, not at the start.
    const at = deps.now()
    const created = serviceTimeCandidates(candidate.createTime).filter((t) => t <= at + 60_000)
    const newest = created.length > 0 ? Math.max(...created) : at
    if (at - newest < deps.settings.candidateSettleMs) {
      tooYoung++
      continue
    }
    const expiresAt = toEpochSeconds(at + deps.settings.taskRetentionMs)
    if (await deps.taskNos.claim(candidate.taskNo, task.id, expiresAt)) {
      return {
        taskNo: candidate.taskNo,
        tooYoung,
        complete: true,
        listedAt: listing.startedAt,
        calls,
      }
    }
  }
  const reason = listing.reason ?? unread
  return {
    tooYoung,
    complete: listing.complete && unread === undefined,
    reason,
    listedAt: listing.startedAt,
    calls,
  }
}

function errorCode(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : String(error)
}
