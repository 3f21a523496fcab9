/** An API key's callback endpoints switched back on, and the callbacks they stopped sent again. */
import type { ApiKey } from '../auth/api-keys.ts'
import type { TaskStore } from '../tasks/task-store.ts'
import { dueForRedelivery } from './callback-states.ts'
import type { EndpointHealthStore } from './endpoint-health-store.ts'

export interface ReenableDeps {
  readonly endpoints: Pick<EndpointHealthStore, 'list' | 'save'>
  readonly tasks: Pick<TaskStore, 'listByTenant' | 'replace'>
  readonly now: () => number
}

/** Pages of a key's tasks looked through for stopped callbacks (100 each). */
const MAX_PAGES = 20

/**
 * Clears the health of every endpoint of the key that failed or was disabled (a conditional write
 * each: one that changed meanwhile is left as it is), then schedules again, now, every callback of
 * the key's tasks that a disabled endpoint stopped.
 */
export async function reenableEndpoints(
  deps: ReenableDeps,
  key: Pick<ApiKey, 'id' | 'tenant'>,
): Promise<{ enabled: string[]; rescheduled: number }> {
  const enabled: string[] = []
  for (const health of await deps.endpoints.list(key.id)) {
    if (!health.disabledAt && health.failures === 0) continue
    const cleared = { keyId: key.id, endpoint: health.endpoint, failures: 0 }
    if (await deps.endpoints.save(cleared, health.version)) enabled.push(health.endpoint)
  }
  return { enabled, rescheduled: await rescheduleDisabledCallbacks(deps, key) }
}

async function rescheduleDisabledCallbacks(
  deps: ReenableDeps,
  key: Pick<ApiKey, 'id' | 'tenant'>,
): Promise<number> {
  let rescheduled = 0
  let start: Record<string, unknown> | undefined
  for (let page = 0; page < MAX_PAGES; page++) {
    const found = await deps.tasks.listByTenant(
      key.tenant,
      { keyId: key.id, callbackState: 'disabled' },
      100,
      start,
      deps.now(),
    )
    for (const task of found.items) {
      const next = { ...task, ...dueForRedelivery(task.callback, deps.now()) }
      if (await deps.tasks.replace(next, task.version)) rescheduled++
    }
    start = found.next
    if (!start) break
  }
  return rescheduled
}
