import type { Task } from '../tasks/task.ts'
import { toTaskResource } from '../tasks/task-resource.ts'

/** The webhook id of a task's completion event: the same on every attempt and redelivery. */
export const webhookIdOf = (task: Task): string => `msg_${task.id}`

/**
 * The Standard Webhooks body of a finished task: `{type, timestamp, data}`. Built only from fields
 * that no longer change once the task is terminal, so every attempt sends identical bytes.
 */
export function taskEventBody(task: Task): string {
  // `publishedAt` comes after the task is final (a `publication.served` event tells it).
  const { callback: _callback, publishedAt: _publishedAt, ...data } = toTaskResource(task)
  return JSON.stringify({
    type: `task.${task.status}`,
    timestamp: task.completedAt ?? task.updatedAt,
    data,
  })
}
