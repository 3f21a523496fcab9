import type { TaskStore } from '#shared/tasks/task-store.ts'

/**
 * Every method of a task store, calling the real one: spread it and override the calls a test
 * wants to watch, slow down or break (the store's methods live on its prototype, so `...real`
 * alone would copy none of them).
 */
export function passThrough(real: TaskStore): TaskStore {
  return {
    shardCount: real.shardCount,
    create: (task) => real.create(task),
    createOrGet: (task, now) => real.createOrGet(task, now),
    remove: (id, version) => real.remove(id, version),
    get: (id, now) => real.get(id, now),
    replace: (next, version) => real.replace(next, version),
    listByTenant: (...args) => real.listByTenant(...args),
    nudge: (id, at) => real.nudge(id, at),
    claim: (...args) => real.claim(...args),
    dueIds: (...args) => real.dueIds(...args),
    ...(real.dueBacklog ? { dueBacklog: real.dueBacklog.bind(real) } : {}),
  }
}
