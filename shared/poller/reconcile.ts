import { toEpochSeconds } from '../store/dynamodb.ts'
import type { Task, TaskAction } from '../tasks/task.ts'
import type { PollerDeps } from './process-task.ts'
import { serviceTimeCandidates } from './service-time.ts'

/**
 * Upstream task types per action. Alibaba documents `CHG_DNS`; the DS and DNS-host names are those
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
/** Around the intent's creation: clock skew before, the upstream call's time and skew after. */
const WINDOW_BEFORE_MS = 2 * 60_000
const WINDOW_AFTER_MS = 5 * 60_000

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
 * `QueryTaskList` over the creation day (the service filters by day only), narrowed to tasks
 * created from 2 minutes before to 5 minutes after the intent, oldest first, then
 * `QueryTaskDetailList` filtered by the task's domain or instance. A match is adopted only if its
 * TaskNo can be claimed (a conditional write), so no two gateway tasks adopt the same one.
 */
export async function findUpstreamTask(
  deps: Pick<PollerDeps, 'upstream' | 'taskNos' | 'now' | 'settings'>,
  task: Task,
): Promise<string | undefined> {
  const createdAt = Date.parse(task.createdAt)
  const target = task.details[0]?.target
  if (!target) return undefined
  const byInstance = task.command.action === 'dnshost.sync'
  const windowStart = createdAt - WINDOW_BEFORE_MS
  const windowEnd = createdAt + WINDOW_AFTER_MS
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
      endCreateTime: createdAt + DAY_MS,
      pageNum,
      pageSize: PAGE_SIZE,
    })
    candidates.push(...page.tasks.filter((candidate) => inWindow(candidate.createTime)))
    // Newest first: once a whole page is older than the window, the rest is too.
    const oldest = page.tasks.at(-1)
    if (!page.hasNextPage || page.tasks.length === 0 || olderThanWindow(oldest?.createTime)) break
  }
  // Newest first from the service; the submission is at the start of the window.
  const now = deps.now()
  for (const candidate of candidates.reverse()) {
    if (!mayBeOurs(task.action, candidate.taskType)) continue
    // Too young to be sure no live submission is about to record it as its own: not yet.
    // Of the readings of its creation time, the latest that is not in the future.
    const created = serviceTimeCandidates(candidate.createTime).filter((at) => at <= now + 60_000)
    const newest = created.length > 0 ? Math.max(...created) : createdAt
    if (now - newest < deps.settings.candidateSettleMs) continue
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
    const expiresAt = toEpochSeconds(deps.now() + deps.settings.taskRetentionMs)
    if (await deps.taskNos.claim(candidate.taskNo, task.id, expiresAt)) return candidate.taskNo
  }
  return undefined
}
