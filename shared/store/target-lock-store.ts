import type { DynamoDBDocumentClient, UpdateCommandInput } from '@aws-sdk/lib-dynamodb'
import { type TargetLockStore, type TargetState, ticketTenant } from '../tasks/target-locks.ts'
import { getItem, writeConditionally } from './dynamodb.ts'

/** The DynamoDB item behind each target's queue and holder (see tasks/target-locks.ts). */

const keyOf = (target: string) => ({ pk: `TARGET#${target}`, sk: 'TARGET' })
/** The item's count of a tenant's tickets. */
const tenantCount = (tenant: string) => `waiting#${tenant}`

function stateOf(target: string, item: Record<string, unknown> | undefined): TargetState {
  const waiters = item?.waiters as Set<string> | string[] | undefined
  return {
    target,
    holder: typeof item?.taskId === 'string' ? item.taskId : undefined,
    until: typeof item?.until === 'number' ? item.until : undefined,
    holderTicket: typeof item?.holderTicket === 'string' ? item.holderTicket : undefined,
    waiters: waiters ? [...waiters].sort() : [],
    version: typeof item?.ver === 'number' ? item.ver : 0,
  }
}

export class DynamoDbTargetLockStore implements TargetLockStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * A conditional update of the target's item: its attributes after (`ReturnValues` as asked), or
   * false when its condition did not hold. An update whose answer was lost and whose retry met it
   * counts as made (see `writeConditionally`), so a release, a take or a ticket is never redone
   * nor taken for a lost race.
   */
  async #update(
    target: string,
    input: Omit<UpdateCommandInput, 'TableName' | 'Key'>,
  ): Promise<Record<string, unknown> | false> {
    const outcome = await writeConditionally(this.db, this.tableName, {
      update: { Key: keyOf(target), ...input },
    })
    return outcome.made ? (outcome.item ?? {}) : false
  }

  async acquire(target: string, taskId: string, until: number): Promise<boolean> {
    const result = await this.#update(target, {
      UpdateExpression:
        'SET taskId = :me, #until = :until, #type = :type REMOVE holderTicket ADD ver :one',
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
      UpdateExpression: `SET taskId = :me, #until = :until, holderTicket = :one_ticket ADD ver :one${tenant === undefined ? '' : ', #count :minus'} DELETE waiters :ticket`,
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
        ':one_ticket': ticket,
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
    const values = {
      ':type': 'target',
      ':ticket': new Set([ticket]),
      ':one_ticket': ticket,
      ':one': 1,
      ':max': max,
    }
    if (tenant === undefined) {
      const result = await this.#update(target, {
        UpdateExpression: 'SET #type = :type ADD waiters :ticket, ver :one',
        ConditionExpression:
          'attribute_not_exists(waiters) OR size(waiters) < :max OR contains(waiters, :one_ticket)',
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: values,
      })
      return result !== false
    }
    // Counted once: only a ticket not yet there is added (and counted); one already there is fine.
    const result = await this.#update(target, {
      UpdateExpression: 'SET #type = :type ADD waiters :ticket, ver :one, #count :one',
      ConditionExpression:
        '(attribute_not_exists(waiters) OR (size(waiters) < :max AND NOT contains(waiters, :one_ticket))) AND (attribute_not_exists(#count) OR #count < :tenantMax)',
      ExpressionAttributeNames: { '#type': 'type', '#count': tenantCount(tenant) },
      ExpressionAttributeValues: { ...values, ':tenantMax': maxPerTenant },
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
    const item = await getItem(this.db, this.tableName, keyOf(target))
    return stateOf(target, item)
  }

  async release(target: string, taskId: string): Promise<TargetState | undefined> {
    const result = await this.#update(target, {
      UpdateExpression: 'REMOVE taskId, #until, holderTicket ADD ver :one',
      ConditionExpression: 'taskId = :me',
      ExpressionAttributeNames: { '#until': 'until' },
      ExpressionAttributeValues: { ':me': taskId, ':one': 1 },
      ReturnValues: 'ALL_NEW',
    })
    return result === false ? undefined : stateOf(target, result)
  }
}
