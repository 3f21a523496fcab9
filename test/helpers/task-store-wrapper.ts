import { expect } from 'vitest'
import type { Task } from '#shared/tasks/task.ts'
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
    dueItems: (...args) => real.dueItems(...args),
    ...(real.dueBacklog ? { dueBacklog: real.dueBacklog.bind(real) } : {}),
  }
}

/** Wraps a store so every successful status change is recorded as `from→to`. */
export function recordTransitions(real: TaskStore, log: Map<string, string[]>): TaskStore {
  return {
    ...passThrough(real),
    async replace(next: Task, expectedVersion: number) {
      const before = await real.get(next.id, Date.now())
      const ok = await real.replace(next, expectedVersion)
      if (ok && before && before.status !== next.status) {
        log.set(next.id, [...(log.get(next.id) ?? []), `${before.status}→${next.status}`])
      }
      if (
        ok &&
        before &&
        before.callback.state !== next.callback.state &&
        next.callback.state === 'delivered'
      ) {
        log.set(next.id, [...(log.get(next.id) ?? []), 'delivered'])
      }
      return ok
    },
  }
}

/**
 * What racing pollers must leave behind: each task succeeded once and its callback was delivered
 * once (as `recordTransitions` saw the writes), no step repeated, one callback at the receiver.
 */
export function expectEachStepOnce(
  ids: readonly string[],
  transitions: ReadonlyMap<string, readonly string[]>,
  received: ReadonlyMap<string, number>,
): void {
  for (const id of ids) {
    const changes = transitions.get(id) ?? []
    expect(
      changes.filter((change) => change.endsWith('→succeeded')),
      id,
    ).toHaveLength(1)
    expect(
      changes.filter((change) => change === 'delivered'),
      id,
    ).toHaveLength(1)
    expect(new Set(changes).size, `${id}: ${changes}`).toBe(changes.length)
    expect(received.get(`msg_${id}`), id).toBe(1)
  }
}
