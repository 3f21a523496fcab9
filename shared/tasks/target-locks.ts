/**
 * One item per registry target (a domain, or a DNS-host instance): the gateway task that holds it
 * and the tickets of the tasks waiting for it, in acceptance order.
 *
 * The holder is the one task allowed to send a `Save*` for the target. It holds the target from
 * its submission until it is final (the registry runs one task per domain at a time), so no
 * reconciler can take another live submission's upstream task for its own, and a second
 * submission never meets `TaskIsBeingProcessed` because of the gateway's own first one.
 *
 * Waiting tasks hold tickets (`<acceptedAt>#<step>#<taskId>`, see {@link ticketOf}); the smallest
 * ticket is the head, and only the head may take a free target (FIFO per target) — or a task
 * whose change commutes with a batch ahead of it that waits for an earlier task on another domain
 * (see overtaking.ts). A task with several targets takes all of them at once or none, so it never
 * holds one while waiting for another; since every target orders the same tickets the same way,
 * and nothing goes before a batch that waits only for what went before it, no batch starves. Every write is conditional on the item's
 * version or on the holder, so two pollers racing for one target cannot both win.
 */
export interface TargetState {
  readonly target: string
  /** The task holding the target, if any. */
  readonly holder?: string | undefined
  /** Until when the holder's submission may still reach the registry unseen (epoch ms). */
  readonly until?: number | undefined
  /**
   * The ticket the holder waited with, when it took the target from the queue (a holder that took
   * a free target with nobody waiting has none: it came before every ticket there).
   */
  readonly holderTicket?: string | undefined
  /** Tickets of the waiting tasks, head first. */
  readonly waiters: readonly string[]
  /** Optimistic-lock counter of the item; 0 when it does not exist. */
  readonly version: number
}

export interface TargetLockStore {
  /**
   * Takes the target when nobody holds it and nobody waits for it (or `taskId` holds it already):
   * the fast path of a submission. False otherwise.
   */
  acquire(target: string, taskId: string, until: number): Promise<boolean>
  /**
   * Takes the target for a waiting task (the head of its queue, or one allowed to go before those
   * ahead of it, see overtaking.ts): only if the item is still at `seen`.
   */
  acquireAsHead(
    target: string,
    taskId: string,
    ticket: string,
    until: number,
    seen: TargetState,
  ): Promise<boolean>
  /**
   * Adds a ticket to the target's queue; false when the queue already has `max` tickets, or — for
   * a ticket that names its tenant — the tenant already has `maxPerTenant` of them there. True
   * when the ticket is there already.
   */
  enqueue(target: string, ticket: string, max: number, maxPerTenant?: number): Promise<boolean>
  /** Removes a ticket (a task leaving the queue without the target, or a dead one). */
  dequeue(target: string, ticket: string): Promise<void>
  read(target: string): Promise<TargetState>
  /** Gives the target up if `taskId` holds it; answers the state after, to wake the next. */
  release(target: string, taskId: string): Promise<TargetState | undefined>
}

const TICKET_TIME_DIGITS = 15

/**
 * A waiting task's place: acceptance time, then its step within one request (so a change's steps
 * keep their order), then its tenant (each tenant's share of a queue is counted) and its id.
 * Tickets compare as strings.
 */
export function ticketOf(
  acceptedAt: number,
  step: number,
  taskId: string,
  tenant?: string,
): string {
  const head = `${String(acceptedAt).padStart(TICKET_TIME_DIGITS, '0')}#${String(step).padStart(3, '0')}`
  return tenant === undefined ? `${head}#${taskId}` : `${head}#${tenant}#${taskId}`
}

/** The tenant a ticket names (tickets written before tenants were counted name none). */
export function ticketTenant(ticket: string): string | undefined {
  const parts = ticket.split('#')
  return parts.length === 4 ? parts[2] : undefined
}

export function ticketTaskId(ticket: string): string {
  return ticket.slice(ticket.lastIndexOf('#') + 1)
}

export function ticketTime(ticket: string): number {
  return Number(ticket.slice(0, TICKET_TIME_DIGITS))
}

/** Takes every target of a task on the fast path, or none (what it took is given back). */
export async function acquireAll(
  locks: TargetLockStore,
  targets: readonly string[],
  taskId: string,
  until: number,
): Promise<boolean> {
  const taken: string[] = []
  for (const target of [...new Set(targets)].sort()) {
    if (!(await locks.acquire(target, taskId, until))) {
      await Promise.all(taken.map((held) => locks.release(held, taskId)))
      return false
    }
    taken.push(target)
  }
  return true
}

/** Gives every target of a task back; answers the states after, for waking the next in line. */
export async function releaseAll(
  locks: TargetLockStore,
  targets: readonly string[],
  taskId: string,
): Promise<TargetState[]> {
  const states = await Promise.all(
    [...new Set(targets)].map((target) => locks.release(target, taskId)),
  )
  return states.filter((state): state is TargetState => state !== undefined)
}
