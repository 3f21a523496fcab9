import type { Logger } from '../logger.ts'
import { type Ahead, MAX_OVERTAKEN, mayGoBefore } from './overtaking.ts'
import {
  releaseAll,
  type TargetLockStore,
  type TargetState,
  ticketTaskId,
  ticketTime,
} from './target-locks.ts'
import { isTerminal, type Task, targetsOf } from './task.ts'
import type { TaskStore } from './task-store.ts'

/** How the per-target queue behaves. Durations in milliseconds. */
export interface QueueSettings {
  /** Tickets one target's queue holds at most; a submission beyond it gets 429. */
  readonly maxPerTarget: number
  /** Tickets of one tenant in one target's queue at most (its fair share); beyond it, 429. */
  readonly maxPerTenant: number
  /**
   * Delay before the n-th look for a turn of a task at the head of its queues whose domain is still
   * held (the last value repeats). A release wakes the head at once; this only covers a lost wake.
   */
  readonly headRecheckDelaysMs: readonly number[]
  /**
   * The same for a task further back: it cannot go before those ahead of it, and each release wakes
   * the new head, so it looks again only now and then (cheap however long the queue).
   */
  readonly recheckDelaysMs: readonly number[]
  /** Delay before the n-th retry after `TaskIsBeingProcessed` (the last value repeats). */
  readonly busyRetryDelaysMs: readonly number[]
  /** A task still queued after this long is rejected (`QueueTimeout`); nothing was sent. */
  readonly maxWaitMs: number
  /** A ticket whose task does not exist this long after its acceptance is dropped. */
  readonly staleTicketMs: number
}

export const delayAt = (delays: readonly number[], step: number): number =>
  delays[Math.min(step, delays.length - 1)] as number

export interface QueueDeps {
  readonly tasks: TaskStore
  readonly targetLocks: TargetLockStore
  readonly now: () => number
  readonly logger: Logger
  readonly queue: QueueSettings
  /** Wakes the change a final task is a step of. */
  readonly nudgeChange?: ((changeId: string, at: number) => Promise<void>) | undefined
}

const uniqueSorted = (targets: readonly string[]) => [...new Set(targets)].sort()

/**
 * Puts a ticket in the queue of every target, or in none: on a full queue the tickets already
 * placed are taken back and the full target is returned.
 */
export async function enqueueAll(
  locks: TargetLockStore,
  targets: readonly string[],
  ticket: string,
  limits: Pick<QueueSettings, 'maxPerTarget' | 'maxPerTenant'>,
): Promise<string | undefined> {
  const placed: string[] = []
  for (const target of uniqueSorted(targets)) {
    if (!(await locks.enqueue(target, ticket, limits.maxPerTarget, limits.maxPerTenant))) {
      await Promise.all(placed.map((done) => locks.dequeue(done, ticket)))
      return target
    }
    placed.push(target)
  }
  return undefined
}

/**
 * Whether the holder of a target is done with it. For the head of the target's queue (the one that
 * would take it) the holder's task is read: a final holder is done whatever its `until` says — a
 * holder releases its targets when it becomes final, but that write may fail after the final one
 * was made, and no lock may outlive its holder's known end — and so is a holder whose task is gone
 * (a task takes its targets only after its intent is written, and an intent is removed only by a
 * submission that failed before sending). For a task further back (which may only go first where
 * overtaking allows) the holder is trusted while its `until` lies ahead, which saves a read per look.
 */
async function holderDone(
  deps: QueueDeps,
  state: TargetState,
  now: number,
  isHead: boolean,
): Promise<boolean> {
  if (!state.holder) return true
  if (!isHead && (state.until === undefined || state.until > now)) return false
  const holder = await deps.tasks.get(state.holder, now)
  return !holder || isTerminal(holder.status)
}

/**
 * The head of a queue that is not this task: dropped if it is dead (its task gone after a while,
 * final, or no longer waiting with that ticket), else woken, since the target may be free for it.
 */
async function tendHead(deps: QueueDeps, state: TargetState, now: number): Promise<void> {
  const head = state.waiters[0]
  if (!head) return
  const task = await deps.tasks.get(ticketTaskId(head), now)
  // A submission whose domain was busy writes its tickets while its task is still the intent
  // (`submitting`), then turns it `queued`: young, that ticket is not dead yet.
  const young = now - ticketTime(head) <= deps.queue.staleTicketMs
  const dead = !task
    ? !young
    : task.status === 'queued'
      ? task.queue?.ticket !== head
      : task.status !== 'submitting' || !young
  if (dead) {
    deps.logger.warn('dropping a dead ticket from a target queue', {
      target: state.target,
      taskId: ticketTaskId(head),
    })
    await deps.targetLocks.dequeue(state.target, head)
  } else if (!state.holder) {
    await deps.tasks.nudge(ticketTaskId(head), now)
  }
}

/** What a look for a turn found: taken, or waiting at the head of every queue, or further back. */
export type Turn = 'taken' | 'head' | 'behind'

/**
 * Tries to take every target of a queued task: it must be the head of each target's queue (or
 * allowed to go before those ahead of it, see overtaking.ts) and each target must be free (or its
 * already). All are taken or none; once all are held the tickets are removed.
 */
export async function tryTakeTurn(deps: QueueDeps, task: Task, until: number): Promise<Turn> {
  const ticket = task.queue?.ticket
  if (!ticket) return 'behind'
  const now = deps.now()
  const targets = uniqueSorted(targetsOf(task.command))
  const states = await Promise.all(targets.map((target) => deps.targetLocks.read(target)))
  let ready = true
  let head = true
  const behindOn: TargetState[] = []
  for (const state of states) {
    if (state.holder === task.id) continue
    if (!state.waiters.includes(ticket)) {
      // Its ticket was lost (dropped as dead while the task was being created): put it back.
      await deps.targetLocks.enqueue(state.target, ticket, Number.MAX_SAFE_INTEGER)
      ready = false
      head = false
    } else if (state.waiters[0] !== ticket) {
      head = false
      if (await holderDone(deps, state, now, false)) behindOn.push(state)
      else ready = false
    } else if (!(await holderDone(deps, state, now, true))) {
      ready = false
    }
  }
  if (ready && behindOn.length > 0) {
    ready = await mayGoFirstOnAll(deps, task, ticket, states, behindOn, now)
  }
  if (!ready) {
    // A head that is not this task is tended (dropped if dead, woken if its target is free).
    for (const state of states) {
      if (state.waiters.includes(ticket) && state.waiters[0] !== ticket) {
        await tendHead(deps, state, now)
      }
    }
    return head ? 'head' : 'behind'
  }
  const taken: string[] = []
  for (const state of states) {
    if (state.holder === task.id) continue
    if (!(await deps.targetLocks.acquireAsHead(state.target, task.id, ticket, until, state))) {
      // The item changed since it was read: give back what was taken, keep the tickets.
      await Promise.all(taken.map((target) => deps.targetLocks.release(target, task.id)))
      return head ? 'head' : 'behind'
    }
    taken.push(state.target)
  }
  await Promise.all(targets.map((target) => deps.targetLocks.dequeue(target, ticket)))
  return 'taken'
}

/**
 * Whether a task may go before every ticket ahead of its own on each of `behindOn` (free targets
 * where it is not the head): reads each task ahead and that task's other targets (see
 * overtaking.ts); `states` are this task's own targets, as read.
 */
async function mayGoFirstOnAll(
  deps: QueueDeps,
  task: Task,
  ticket: string,
  states: readonly TargetState[],
  behindOn: readonly TargetState[],
  now: number,
): Promise<boolean> {
  // The targets this task shares with those ahead were read already.
  const reads = new Map(states.map((state) => [state.target, Promise.resolve(state)]))
  const readTarget = (target: string) => {
    const read = reads.get(target) ?? deps.targetLocks.read(target)
    reads.set(target, read)
    return read
  }
  for (const state of behindOn) {
    const tickets = state.waiters.slice(0, state.waiters.indexOf(ticket))
    if (tickets.length > MAX_OVERTAKEN) return false
    const ahead: Ahead[] = await Promise.all(
      tickets.map(async (waiting) => {
        const other = await deps.tasks.get(ticketTaskId(waiting), now)
        const otherTargets = other ? uniqueSorted(targetsOf(other.command)) : []
        return {
          ticket: waiting,
          task: other,
          states: await Promise.all(otherTargets.map(readTarget)),
        }
      }),
    )
    if (!mayGoBefore(task, state.target, ahead)) return false
  }
  return true
}

/** Gives a task's tickets and targets back (it leaves the queue without being sent). */
export async function leaveQueue(deps: QueueDeps, task: Task): Promise<void> {
  const ticket = task.queue?.ticket
  const targets = targetsOf(task.command)
  if (ticket) {
    await Promise.all(
      uniqueSorted(targets).map((target) => deps.targetLocks.dequeue(target, ticket)),
    )
  }
  await releaseTargets(deps, task)
}

/**
 * Releases a task's targets (it is final, or leaves without being sent) and wakes the head of
 * each queue — and the one behind it when the head is a batch, which may be waiting for another
 * domain and let it go first (see overtaking.ts) — so the next task need not wait for its next
 * look, and the change it is a step of. Answers the woken tasks' ids. A failed release is
 * harmless: the lock is taken over once its `until` has passed and its holder is seen final.
 */
export async function releaseTargets(deps: QueueDeps, task: Task): Promise<string[]> {
  try {
    const states = await releaseAll(deps.targetLocks, targetsOf(task.command), task.id)
    const now = deps.now()
    const woken = new Set(
      (await Promise.all(states.map((state) => toWake(deps, state, now)))).flat(),
    )
    await Promise.all([
      ...[...woken].map((id) => deps.tasks.nudge(id, now)),
      task.changeId ? deps.nudgeChange?.(task.changeId, now) : undefined,
    ])
    return [...woken]
  } catch (error) {
    deps.logger.warn('could not release the targets', { taskId: task.id, error })
    return []
  }
}

/** The head of a released target's queue, and the next when the head is a batch. */
async function toWake(deps: QueueDeps, state: TargetState, now: number): Promise<string[]> {
  const [head, next] = state.waiters.map(ticketTaskId)
  if (!head) return []
  if (!next) return [head]
  const headTask = await deps.tasks.get(head, now)
  return headTask && targetsOf(headTask.command).length > 1 ? [head, next] : [head]
}

/** Whether the task holds every one of its targets. */
export async function holdsAll(locks: TargetLockStore, task: Task): Promise<boolean> {
  const states = await Promise.all(task.details.map((detail) => locks.read(detail.target)))
  return states.every((state) => state.holder === task.id)
}

/** Where a queued task stands: the most tickets ahead of it in any of its targets' queues. */
export async function queuePosition(
  locks: TargetLockStore,
  task: Task,
): Promise<number | undefined> {
  const ticket = task.queue?.ticket
  if (task.status !== 'queued' || !ticket) return undefined
  const states = await Promise.all(uniqueSorted(targetsOf(task.command)).map((t) => locks.read(t)))
  let ahead = 0
  for (const state of states) {
    if (state.holder === task.id) continue
    const index = state.waiters.indexOf(ticket)
    const before = index < 0 ? state.waiters.length : index
    ahead = Math.max(ahead, before + (state.holder ? 1 : 0))
  }
  return ahead
}
