import type { TaskDetail as UpstreamDetail } from '../aliyun/responses.ts'
import type { DetailStatus, Task, TaskDetail, TaskStatus } from './task.ts'

const DETAIL_STATUS: Record<UpstreamDetail['status'], DetailStatus> = {
  WAITING_EXECUTE: 'pending',
  EXECUTING: 'running',
  EXECUTE_SUCCESS: 'succeeded',
  EXECUTE_FAILURE: 'failed',
}

/** Ordering used so a status never goes backwards. */
const RANK: Record<TaskStatus, number> = {
  queued: 0,
  submitting: 0,
  pending: 1,
  running: 2,
  succeeded: 3,
  failed: 3,
  partially_failed: 3,
  rejected: 3,
  unknown: 3,
}

const statusRank = (status: TaskStatus): number => RANK[status]

/** Matches upstream details to the task's targets (domain or instance). Unmatched stay as they were. */
export function mergeDetails(
  current: readonly TaskDetail[],
  upstream: readonly UpstreamDetail[],
): TaskDetail[] {
  const byTarget = new Map<string, UpstreamDetail>()
  for (const detail of upstream) {
    if (detail.domainName) byTarget.set(detail.domainName, detail)
    if (detail.instanceId) byTarget.set(detail.instanceId, detail)
  }
  return current.map((detail) => {
    const found = byTarget.get(detail.target)
    if (!found) return detail
    const status = DETAIL_STATUS[found.status]
    // A detail never goes backwards either.
    if (detailRank(status) < detailRank(detail.status)) return detail
    return {
      target: detail.target,
      status,
      ...(status === 'failed' ? { error: found.errorMessage ?? 'failed' } : {}),
    }
  })
}

function detailRank(status: DetailStatus): number {
  return status === 'pending' ? 0 : status === 'running' ? 1 : 2
}

/** The task status its details add up to. */
export function deriveStatus(details: readonly TaskDetail[]): TaskStatus {
  if (details.length === 0) return 'pending'
  const done = details.filter(
    (detail) => detail.status === 'succeeded' || detail.status === 'failed',
  )
  if (done.length === details.length) {
    const failed = done.filter((detail) => detail.status === 'failed').length
    if (failed === 0) return 'succeeded'
    return failed === details.length ? 'failed' : 'partially_failed'
  }
  return details.some((detail) => detail.status !== 'pending') ? 'running' : 'pending'
}

/** Never lets a task's status move back (e.g. `running` → `pending` on a stale read). */
export function forward(task: Task, next: TaskStatus): TaskStatus {
  return statusRank(next) >= statusRank(task.status) ? next : task.status
}
