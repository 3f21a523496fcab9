import type { TargetState } from './target-locks.ts'
import type { Task, TaskCommand } from './task.ts'

/**
 * When a queued task may go before the tasks ahead of it in one target's queue, so that a batch
 * waiting for another of its domains does not keep this one idle.
 *
 * Per target the queue is first in, first out — except that a task may go before a batch that
 * cannot run yet because an *earlier* task holds (or waits ahead of it for) one of the batch's
 * other domains, and only when the two change different parts of the registration, so their
 * order cannot change the domain's end state:
 *
 * - the batch waits elsewhere for something that came before it — a holder with an earlier ticket
 *   (or none: it took a free domain before anyone waited), or an earlier ticket ahead of it in
 *   another queue. Once it waits only for tasks that went ahead of it, nothing more goes ahead of
 *   it, so it waits at most for one such task per domain beyond what it waited for anyway, and
 *   never starves (every earlier ticket is served first, by the same argument);
 * - the two commute: one changes the DS records, the other the name servers (a name-server batch
 *   never goes before another, nor a DS change before a DS change);
 * - they are not steps of one change (a change's steps keep their order);
 * - few are ahead: at most {@link MAX_OVERTAKEN} tickets are looked at, which bounds the reads.
 *
 * Everything here is decided on reads; the take itself is the conditional write on the target's
 * version (acquireAsHead), so a race with the batch taking its turn has one winner, and a stale
 * read can at worst let one task go ahead that should have waited — never two holders.
 */

export const MAX_OVERTAKEN = 5

/** The part of a domain's registration a command changes. */
export function aspectOf(command: TaskCommand): 'ds' | 'name-servers' | 'dns-host' {
  switch (command.action) {
    case 'dns.batch':
      return 'name-servers'
    case 'dnshost.sync':
      return 'dns-host'
    default:
      return 'ds'
  }
}

/**
 * Whether a waiting task (with `ticket`) cannot take its turn because of something earlier on one
 * of its targets other than `target`. `states` are the waiting task's targets as read.
 */
export function waitsElsewhereForEarlier(
  taskId: string,
  ticket: string,
  target: string,
  states: readonly TargetState[],
): boolean {
  return states.some((state) => {
    if (state.target === target || state.holder === taskId) return false
    const place = state.waiters.indexOf(ticket)
    if (place > 0) return true
    if (place < 0 || state.holder === undefined) return false
    return state.holderTicket === undefined || state.holderTicket < ticket
  })
}

/** One task ahead in a target's queue, as read: its ticket, its task, its targets' states. */
export interface Ahead {
  readonly ticket: string
  readonly task: Task | undefined
  readonly states: readonly TargetState[]
}

/** Whether `task` may go before every one of `ahead` (the tickets before its own on `target`). */
export function mayGoBefore(task: Task, target: string, ahead: readonly Ahead[]): boolean {
  if (ahead.length > MAX_OVERTAKEN) return false
  return ahead.every(
    ({ ticket, task: other, states }) =>
      other !== undefined &&
      other.status === 'queued' &&
      other.queue?.ticket === ticket &&
      (task.changeId === undefined || other.changeId !== task.changeId) &&
      aspectOf(other.command) !== aspectOf(task.command) &&
      waitsElsewhereForEarlier(other.id, ticket, target, states),
  )
}
