import type { TaskSubmitter } from '#shared/tasks/submit-to-upstream.ts'
import type { Task } from '#shared/tasks/task.ts'
import type { TaskStore } from '#shared/tasks/task-store.ts'

/** The `Save*` calls: the ones that change a domain. */
const SUBMIT_METHODS: ReadonlySet<PropertyKey> = new Set<keyof TaskSubmitter>([
  'addDsRecord',
  'modifyDsRecord',
  'deleteDsRecord',
  'syncDsRecord',
  'syncDnsHost',
  'modifyDomainDnsBatch',
])

/**
 * Where a process may stop around the upstream call (each runs and may throw, or never return, as
 * a process that died there): `before` nothing is signed, `after` the registry has the task and
 * the answer is in hand, its TaskNo not yet written. Reads pass through untouched.
 */
export interface UpstreamCrashPoints {
  readonly before?: () => Promise<void>
  readonly after?: () => Promise<void>
}

/** The client, with the crash points around each of its `Save*` calls. */
export function crashingUpstream<T extends object>(real: T, points: UpstreamCrashPoints): T {
  return new Proxy(real, {
    get(target, property) {
      const value = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      if (!SUBMIT_METHODS.has(property)) return value.bind(target)
      return async (...args: unknown[]) => {
        await points.before?.()
        const result = await value.apply(target, args)
        await points.after?.()
        return result
      }
    },
  })
}

/**
 * The task store, with a crash point right after a new task's intent is written (by `create` or
 * `createOrGet`), before the submission takes its domain: `afterIntent` may throw, or never return.
 * Only for the tasks `which` picks (by default every one).
 */
export function crashingAfterIntent(
  real: TaskStore,
  afterIntent: () => Promise<void>,
  which: (task: Task) => boolean = () => true,
): TaskStore {
  return new Proxy(real, {
    get(target, property) {
      const value = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      if (property === 'create') {
        return async (...args: Parameters<TaskStore['create']>) => {
          const created = await target.create(...args)
          if (created && which(args[0])) await afterIntent()
          return created
        }
      }
      if (property === 'createOrGet') {
        return async (...args: Parameters<TaskStore['createOrGet']>) => {
          const claimed = await target.createOrGet(...args)
          if (claimed.created && which(args[0])) await afterIntent()
          return claimed
        }
      }
      return value.bind(target)
    },
  })
}
