import { toEpochSeconds } from '../store/dynamodb.ts'
import type { Task, TaskAction } from '../tasks/task.ts'
import type { PollerDeps } from './process-task.ts'
import { serviceTimeCandidates } from './service-time.ts'
import type { PollerSettings } from './settings.ts'

/**
 * Upstream task types per action. Alibaba documents `CHG_DNS` and `SYNC_DNSHOST`; the DS names are those
 * the emulator uses and are unconfirmed, so a candidate whose type is unrecognised is still
 * considered (checked by its domain), while one with another action's known type is not.
 */
const TASK_TYPES: Record<TaskAction, readonly string[]> = {
  'ds.add': ['ADD_DS_RECORD'],
  'ds.modify': ['MODIFY_DS_RECORD'],
  'ds.delete': ['DELETE_DS_RECORD'],
  'ds.sync': ['SYNC_DS_RECORD'],
  'dnshost.sync': ['SYNC_DNSHOST'],
  'dns.batch': ['CHG_DNS'],
}
const KNOWN_TYPES = new Set(Object.values(TASK_TYPES).flat())
const DAY_MS = 86_400_000
const PAGE_SIZE = 100
const MAX_PAGES = 50
/** Service time strings have one-second resolution. */
const TIME_RESOLUTION_MS = 1_000

type ReconcileSettings = Pick<
  PollerSettings,
  'sendWindowMs' | 'timestampWindowMs' | 'maxClockSkewMs' | 'absenceMarginMs'
>

/** The latest instant at which this task's `Save*` attempts could have been signed. */
export function sendByOf(settings: Pick<PollerSettings, 'sendWindowMs'>, task: Task): number {
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

/** How long after `sendBy` absence becomes provable; a submission's target lock lives as long. */
export function absenceAfterSendByMs(
  settings: Pick<PollerSettings, 'timestampWindowMs' | 'maxClockSkewMs' | 'absenceMarginMs'>,
): number {
  return settings.timestampWindowMs + settings.maxClockSkewMs + settings.absenceMarginMs
}

/** What one scan found: the adopted TaskNo, and whether the scan can support a verdict of absence. */
export interface UpstreamSearch {
  readonly taskNo?: string | undefined
  /** Candidates skipped as too young to adopt: while there are any, absence is not proven. */
  readonly tooYoung: number
}

/** A batch candidate is ours only if its details name exactly the task's domains. */
async function coversExactly(
  deps: Pick<PollerDeps, 'upstream'>,
  taskNo: string,
  targets: readonly string[],
): Promise<boolean> {
  const details = await deps.upstream.queryAllTaskDetails({ taskNo })
  const found = new Set(details.map((detail) => detail.domainName))
  return found.size === targets.length && targets.every((target) => found.has(target))
}

function mayBeOurs(action: TaskAction, taskType: string | undefined): boolean {
  if (!taskType || !KNOWN_TYPES.has(taskType)) return true
  return TASK_TYPES[action].includes(taskType)
}

/**
 * Looks for the upstream task a `submitting` task may have created, without ever submitting:
 * `QueryTaskList` over the days concerned (the service filters by day only), narrowed to tasks
 * created between the intent (less the clock-skew bound) and the end of the absence window —
 * no assumption that a request arrives promptly —, oldest first, then `QueryTaskDetailList`
 * filtered by the task's domain or instance. A match is adopted only if its TaskNo can be claimed
 * (a conditional write), so no two gateway tasks adopt the same one.
 */
export async function findUpstreamTask(
  deps: Pick<PollerDeps, 'upstream' | 'taskNos' | 'now' | 'settings'>,
  task: Task,
): Promise<UpstreamSearch> {
  // A queued task's intent comes after its creation; no attempt was signed before the intent.
  const createdAt = task.intentAt ?? Date.parse(task.createdAt)
  const target = task.details[0]?.target
  if (!target) return { tooYoung: 0 }
  const byInstance = task.command.action === 'dnshost.sync'
  const windowStart = createdAt - deps.settings.maxClockSkewMs - TIME_RESOLUTION_MS
  const windowEnd = absenceProvableAfter(deps.settings, task)
  // A creation time that can be read must fall in the window under one of its readings; one
  // that cannot be read does not exclude the candidate.
  const inWindow = (text: string | undefined) => {
    const instants = serviceTimeCandidates(text)
    return instants.length === 0 || instants.some((at) => at >= windowStart && at <= windowEnd)
  }
  const olderThanWindow = (text: string | undefined) => {
    const instants = serviceTimeCandidates(text)
    return instants.length > 0 && instants.every((at) => at < windowStart)
  }
  const candidates = []
  for (let pageNum = 1; pageNum <= MAX_PAGES; pageNum++) {
    const page = await deps.upstream.queryTaskList({
      beginCreateTime: createdAt - DAY_MS,
      endCreateTime: Math.min(windowEnd, deps.now()) + DAY_MS,
      pageNum,
      pageSize: PAGE_SIZE,
    })
    candidates.push(...page.tasks.filter((candidate) => inWindow(candidate.createTime)))
    // Newest first: once a whole page is older than the window, the rest is too.
    const oldest = page.tasks.at(-1)
    if (!page.hasNextPage || page.tasks.length === 0 || olderThanWindow(oldest?.createTime)) break
  }
  let tooYoung = 0
  // Newest first from the service; the submission is most likely near the start of the window.
  for (const candidate of candidates.reverse()) {
    if (!mayBeOurs(task.action, candidate.taskType)) continue
    if (candidate.domainCount !== undefined && candidate.domainCount !== task.details.length)
      continue
    const matches =
      task.details.length > 1
        ? await coversExactly(
            deps,
            candidate.taskNo,
            task.details.map((detail) => detail.target),
          )
        : (
            await deps.upstream.queryTaskDetailList({
              taskNo: candidate.taskNo,
              pageSize: 10,
              ...(byInstance ? { instanceId: target } : { domainName: target }),
            })
          ).details.some(
            (detail) => (byInstance ? detail.instanceId : detail.domainName) === target,
          )
    if (!matches) continue
    // Too young to be sure that no live submission is about to record it as its own: not yet,
    // and no verdict of absence from this scan either. Judged by the clock now, not at the start.
    const now = deps.now()
    const created = serviceTimeCandidates(candidate.createTime).filter((at) => at <= now + 60_000)
    const newest = created.length > 0 ? Math.max(...created) : now
    if (now - newest < deps.settings.candidateSettleMs) {
      tooYoung++
      continue
    }
    const expiresAt = toEpochSeconds(deps.now() + deps.settings.taskRetentionMs)
    if (await deps.taskNos.claim(candidate.taskNo, task.id, expiresAt)) {
      return { taskNo: candidate.taskNo, tooYoung }
    }
  }
  return { tooYoung }
}
