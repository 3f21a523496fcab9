import {
  type DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb'
import { isConditionalCheckFailed, storeCall } from './dynamodb.ts'

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
 * ticket is the head, and only the head may take a free target (FIFO per target). A task with
 * several targets takes all of them at once or none, so it never holds one while waiting for
 * another; since every target orders the same tickets the same way, a batch at the head of all
 * its queues is never overtaken and never starves. Every write is conditional on the item's
 * version or on the holder, so two pollers racing for one target cannot both win.
 */
export interface TargetState {
  readonly target: string
  /** The task holding the target, if any. */
  readonly holder?: string | undefined
  /** Until when the holder's submission may still reach the registry unseen (epoch ms). */
  readonly until?: number | undefined
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
  /** Takes the target for the head of its queue: only if the item is still at `seen`. */
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

const keyOf = (target: string) => ({ pk: `TARGET#${target}`, sk: 'TARGET' })
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

/** The item's count of a tenant's tickets. */
const tenantCount = (tenant: string) => `waiting#${tenant}`

export function ticketTaskId(ticket: string): string {
  return ticket.slice(ticket.lastIndexOf('#') + 1)
}

export function ticketTime(ticket: string): number {
  return Number(ticket.slice(0, TICKET_TIME_DIGITS))
}

function stateOf(target: string, item: Record<string, unknown> | undefined): TargetState {
  const waiters = item?.waiters as Set<string> | string[] | undefined
  return {
    target,
    holder: typeof item?.taskId === 'string' ? item.taskId : undefined,
    until: typeof item?.until === 'number' ? item.until : undefined,
    waiters: waiters ? [...waiters].sort() : [],
    version: typeof item?.ver === 'number' ? item.ver : 0,
  }
}

export class DynamoDbTargetLockStore implements TargetLockStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async #update(
    target: string,
    input: Omit<UpdateCommandInput, 'TableName' | 'Key'>,
  ): Promise<Record<string, unknown> | false> {
    try {
      const result = await storeCall('UpdateItem', () =>
        this.db.send(
          new UpdateCommand({ TableName: this.tableName, Key: keyOf(target), ...input }),
        ),
      )
      return result.Attributes ?? {}
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }

  async acquire(target: string, taskId: string, until: number): Promise<boolean> {
    const result = await this.#update(target, {
      UpdateExpression: 'SET taskId = :me, #until = :until, #type = :type ADD ver :one',
      ConditionExpression:
        '(attribute_not_exists(taskId) OR taskId = :me) AND attribute_not_exists(waiters)',
      ExpressionAttributeNames: { '#until': 'until', '#type': 'type' },
      ExpressionAttributeValues: { ':me': taskId, ':until': until, ':type': 'target', ':one': 1 },
    })
    return result !== false
  }

  async acquireAsHead(
    target: string,
    taskId: string,
    ticket: string,
    until: number,
    seen: TargetState,
  ): Promise<boolean> {
    // The ticket was in the queue the caller saw at version `seen`: its tenant's count goes down.
    const tenant = ticketTenant(ticket)
    const result = await this.#update(target, {
      UpdateExpression: `SET taskId = :me, #until = :until ADD ver :one${tenant === undefined ? '' : ', #count :minus'} DELETE waiters :ticket`,
      ConditionExpression: 'ver = :seen',
      ExpressionAttributeNames: {
        '#until': 'until',
        ...(tenant === undefined ? {} : { '#count': tenantCount(tenant) }),
      },
      ExpressionAttributeValues: {
        ':me': taskId,
        ':until': until,
        ':one': 1,
        ':seen': seen.version,
        ':ticket': new Set([ticket]),
        ...(tenant === undefined ? {} : { ':minus': -1 }),
      },
    })
    return result !== false
  }

  async enqueue(
    target: string,
    ticket: string,
    max: number,
    maxPerTenant = Number.MAX_SAFE_INTEGER,
  ): Promise<boolean> {
    const tenant = ticketTenant(ticket)
    if (tenant === undefined) {
      const result = await this.#update(target, {
        UpdateExpression: 'SET #type = :type ADD waiters :ticket, ver :one',
        ConditionExpression:
          'attribute_not_exists(waiters) OR size(waiters) < :max OR contains(waiters, :one_ticket)',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: {
          ':type': 'target',
          ':ticket': new Set([ticket]),
          ':one_ticket': ticket,
          ':one': 1,
          ':max': max,
        },
      })
      return result !== false
    }
    // Counted once: only a ticket not yet there is added (and counted); one already there is fine.
    const result = await this.#update(target, {
      UpdateExpression: 'SET #type = :type ADD waiters :ticket, ver :one, #count :one',
      ConditionExpression:
        '(attribute_not_exists(waiters) OR (size(waiters) < :max AND NOT contains(waiters, :one_ticket))) AND (attribute_not_exists(#count) OR #count < :tenantMax)',
      ExpressionAttributeNames: { '#type': 'type', '#count': tenantCount(tenant) },
      ExpressionAttributeValues: {
        ':type': 'target',
        ':ticket': new Set([ticket]),
        ':one_ticket': ticket,
        ':one': 1,
        ':max': max,
        ':tenantMax': maxPerTenant,
      },
    })
    if (result !== false) return true
    return (await this.read(target)).waiters.includes(ticket)
  }

  async dequeue(target: string, ticket: string): Promise<void> {
    const tenant = ticketTenant(ticket)
    await this.#update(target, {
      UpdateExpression: `ADD ver :one${tenant === undefined ? '' : ', #count :minus'} DELETE waiters :ticket`,
      ConditionExpression: 'contains(waiters, :one_ticket)',
      ...(tenant === undefined
        ? {}
        : { ExpressionAttributeNames: { '#count': tenantCount(tenant) } }),
      ExpressionAttributeValues: {
        ':one': 1,
        ':ticket': new Set([ticket]),
        ':one_ticket': ticket,
        ...(tenant === undefined ? {} : { ':minus': -1 }),
      },
    })
  }

  async read(target: string): Promise<TargetState> {
    const result = await storeCall('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.tableName, Key: keyOf(target), ConsistentRead: true }),
      ),
    )
    return stateOf(target, result.Item)
  }

  async release(target: string, taskId: string): Promise<TargetState | undefined> {
    const result = await this.#update(target, {
      UpdateExpression: 'REMOVE taskId, #until ADD ver :one',
      ConditionExpression: 'taskId = :me',
      ExpressionAttributeNames: { '#until': 'until' },
      ExpressionAttributeValues: { ':me': taskId, ':one': 1 },
      ReturnValues: 'ALL_NEW',
    })
    return result === false ? undefined : stateOf(target, result)
  }
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
