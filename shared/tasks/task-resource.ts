import { isTerminal, TASK_ACTIONS, type Task, type TaskCommand } from './task.ts'

function requestOf(command: TaskCommand): Record<string, unknown> {
  switch (command.action) {
    case 'ds.add':
    case 'ds.modify':
      return { domain: command.domain, ...command.record }
    case 'ds.delete':
      return { domain: command.domain, keyTag: command.keyTag }
    case 'ds.sync':
      return { domain: command.domain }
    case 'dnshost.sync':
      return { instanceId: command.instanceId }
    case 'dns.batch':
      return {
        domains: command.domains,
        aliyunDns: command.aliyunDns,
        nameServers: command.nameServers,
      }
  }
}

/** The public view of a task: what a tenant may see, nothing internal (leases, versions, keys). */
export function toTaskResource(
  task: Task,
  /** For a queued task: how many tasks are ahead of it (read from its targets' queues). */
  queuePosition?: number,
) {
  const byInstance = task.command.action === 'dnshost.sync'
  return {
    id: task.id,
    action: task.action,
    upstreamAction: TASK_ACTIONS[task.action].upstream,
    status: task.status,
    done: isTerminal(task.status),
    ...(byInstance
      ? { instanceId: task.details[0]?.target }
      : { domains: task.details.map((detail) => detail.target) }),
    request: requestOf(task.command),
    upstream: { taskNo: task.upstream.taskNo, requestId: task.upstream.requestId },
    details: task.details.map((detail) => ({
      ...(byInstance ? { instanceId: detail.target } : { domain: detail.target }),
      status: detail.status,
      error: detail.error,
    })),
    error: task.error,
    queue: task.queue
      ? {
          reason: task.queue.reason,
          since: task.queue.since,
          ahead: queuePosition,
          checks: task.queue.checks,
        }
      : undefined,
    safety: task.safety,
    changeId: task.changeId,
    resends: task.resends,
    search: task.search,
    callback: {
      url: task.callback.url,
      state: task.callback.state,
      attempts: task.callback.attempts,
      lastAttemptAt: task.callback.lastAttemptAt,
      nextAttemptAt: task.callback.nextAttemptAt,
      deliveredAt: task.callback.deliveredAt,
      lastError: task.callback.lastError,
    },
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    completedAt: task.completedAt,
    publishedAt: task.publishedAt,
  }
}
export type TaskResource = ReturnType<typeof toTaskResource>
