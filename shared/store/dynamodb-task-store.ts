import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { toEpochSeconds } from '../epoch.ts'
import { callbackOpen, isTerminal, type Task } from '../tasks/task.ts'
import type {
  DueItem,
  TaskFilter,
  TaskNoRegistry,
  TaskPage,
  TaskStore,
} from '../tasks/task-store.ts'
import {
  claimLease,
  deleteVersioned,
  getItem,
  putIfAbsent,
  storeCall,
  withoutTableKeys,
  writeConditionally,
} from './dynamodb.ts'
import { eventIndexKeys } from './event-index.ts'
import { listFilter, queryOwnerPage } from './index-query.ts'
import { dueIndexKeys, openIndexKeys } from './open-index.ts'
import { INDEX_DUE } from './table-definition.ts'

const TASK_SK = 'TASK'
/** The items the due index holds, by their keys' prefix (the table's record of what each is). */
const DUE_KINDS: Readonly<Record<string, DueItem['kind'] | undefined>> = {
  TASK: 'task',
  CHANGE: 'change',
  PUBLICATION: 'publication',
  EVENT: 'event',
}
const taskPk = (id: string) => `TASK#${id}`

function isExpired(item: { expiresAt?: number }, now: number): boolean {
  return item.expiresAt !== undefined && item.expiresAt <= toEpochSeconds(now)
}

/** A task as stored, without the table's own keys and index attributes. */
export function taskFromItem(item: Record<string, unknown>): Task {
  const { targets: _targets, ...task } = withoutTableKeys(item)
  return task as unknown as Task
}

/** How each task filter is written in a query's filter expression (its value is `:<field>`). */
const FILTER_CONDITIONS: Record<
  keyof TaskFilter,
  { readonly names?: Record<string, string>; readonly condition: string }
> = {
  status: { names: { '#status': 'status' }, condition: '#status = :status' },
  action: { names: { '#action': 'action' }, condition: '#action = :action' },
  keyId: { condition: 'keyId = :keyId' },
  callbackState: {
    names: { '#callbackState': 'state' },
    condition: 'callback.#callbackState = :callbackState',
  },
  domain: { condition: 'contains(targets, :domain)' },
}

export class DynamoDbTaskStore implements TaskStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    readonly shardCount: number,
  ) {}

  #toItem(task: Task): Record<string, unknown> {
    const { dueAt, ...rest } = task
    return {
      ...rest,
      pk: taskPk(task.id),
      sk: TASK_SK,
      type: 'task',
      gsi1pk: `TENANT#${task.tenant}`,
      gsi1sk: `${task.createdAt}#${task.id}`,
      targets: task.details.map((detail) => detail.target),
      // A final task is its own `task.*` event: in the event index from the write that ends it.
      ...(isTerminal(task.status)
        ? eventIndexKeys(task.tenant, task.completedAt ?? task.updatedAt, `msg_${task.id}`)
        : {}),
      // Sparse open-work index: while the task or its callback has work ahead (the sweep reads it).
      ...openIndexKeys(
        task.id,
        !isTerminal(task.status) || callbackOpen(task.callback),
        this.shardCount,
      ),
      // Sparse due index: only tasks with work due carry these two attributes.
      ...dueIndexKeys(task.id, dueAt, this.shardCount),
    }
  }

  create(task: Task): Promise<boolean> {
    return putIfAbsent(this.db, this.tableName, this.#toItem(task))
  }

  async createOrGet(
    task: Task,
    now: number,
  ): Promise<{ readonly created: true } | { readonly created: false; readonly existing: Task }> {
    const outcome = await writeConditionally(this.db, this.tableName, {
      put: {
        Item: this.#toItem(task),
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': toEpochSeconds(now) },
      },
    })
    // Its own write, met again by the SDK's retry after a lost answer, is a creation too.
    if (outcome.made) return { created: true }
    // The item that failed the condition (returned with the failure, or read where the engine
    // does not return it); one whose retention has run out counts as gone.
    const existing =
      outcome.item && !isExpired(outcome.item, now) ? taskFromItem(outcome.item) : undefined
    // Deleted (or expired) between the write and the read: try once more.
    if (!existing) return this.createOrGet(task, now)
    return { created: false, existing }
  }

  remove(id: string, expectedVersion: number): Promise<boolean> {
    return deleteVersioned(
      this.db,
      this.tableName,
      { pk: taskPk(id), sk: TASK_SK },
      expectedVersion,
    )
  }

  async get(id: string, now: number): Promise<Task | undefined> {
    const item = await getItem(this.db, this.tableName, { pk: taskPk(id), sk: TASK_SK })
    if (!item || isExpired(item, now)) return undefined
    return taskFromItem(item)
  }

  async claim(
    id: string,
    lease: { owner: string; until: number },
    now: number,
  ): Promise<Task | undefined> {
    const item = await claimLease(
      this.db,
      this.tableName,
      { pk: taskPk(id), sk: TASK_SK },
      lease,
      now,
    )
    return item ? taskFromItem(item) : undefined
  }

  async replace(next: Task, expectedVersion: number): Promise<boolean> {
    const outcome = await writeConditionally(this.db, this.tableName, {
      put: {
        Item: this.#toItem({ ...next, version: expectedVersion + 1 }),
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': expectedVersion },
      },
    })
    return outcome.made
  }

  async listByTenant(
    tenant: string,
    filter: TaskFilter,
    limit: number,
    start: Record<string, unknown> | undefined,
    now: number,
  ): Promise<TaskPage> {
    const { names, values, conditions } = listFilter(now)
    for (const [field, value] of Object.entries(filter) as [keyof TaskFilter, unknown][]) {
      if (!value) continue
      const { names: named, condition } = FILTER_CONDITIONS[field]
      Object.assign(names, named)
      values[`:${field}`] = value
      conditions.push(condition)
    }
    const page = await queryOwnerPage(this.db, {
      tableName: this.tableName,
      owner: `TENANT#${tenant}`,
      conditions,
      names,
      values,
      limit,
      start,
      isKind: (at) => at.sk === TASK_SK && String(at.pk).startsWith('TASK#'),
    })
    return { items: page.items.map(taskFromItem), next: page.next }
  }

  async nudge(id: string, at: number): Promise<void> {
    await writeConditionally(this.db, this.tableName, {
      update: {
        Key: { pk: taskPk(id), sk: TASK_SK },
        UpdateExpression: 'SET dueAt = :at, #version = #version + :one REMOVE #lease',
        ConditionExpression: '#status = :queued AND (dueAt > :at OR attribute_exists(#lease))',
        ExpressionAttributeNames: {
          '#status': 'status',
          '#version': 'version',
          '#lease': 'lease',
        },
        ExpressionAttributeValues: { ':queued': 'queued', ':at': at, ':one': 1 },
      },
    })
  }

  /** One page of a shard's due entries, oldest first (the index is keys-only). */
  async #due(shard: number, now: number, limit: number, projection?: string) {
    const result = await storeCall('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_DUE,
          KeyConditionExpression: 'dueShard = :shard AND dueAt <= :now',
          ExpressionAttributeValues: { ':shard': `DUE#${shard}`, ':now': now },
          ProjectionExpression: projection,
          Limit: limit,
        }),
      ),
    )
    return result.Items ?? []
  }

  async dueBacklog(
    shard: number,
    now: number,
    limit: number,
  ): Promise<{ count: number; oldestDueAt: number | undefined }> {
    const items = await this.#due(shard, now, limit, 'dueAt')
    const oldest = items[0]?.dueAt
    return { count: items.length, oldestDueAt: typeof oldest === 'number' ? oldest : undefined }
  }

  async dueItems(shard: number, now: number, limit: number): Promise<DueItem[]> {
    // Tasks, changes, publication watches and events share the index; each one's key says which.
    return (await this.#due(shard, now, limit)).flatMap((item) => {
      const pk = String(item.pk)
      const cut = pk.indexOf('#')
      const kind = DUE_KINDS[pk.slice(0, cut)]
      return kind ? [{ kind, id: pk.slice(cut + 1) }] : []
    })
  }
}

/**
 * One item per upstream TaskNo, naming the task that owns it. Claimed with a conditional write, so
 * two gateway tasks can never both adopt the same upstream task (the reconciler relies on this).
 */
export class DynamoDbTaskNoRegistry implements TaskNoRegistry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** True if the TaskNo is now (or already was) owned by `taskId`. */
  async claim(taskNo: string, taskId: string, expiresAt: number): Promise<boolean> {
    const outcome = await writeConditionally(this.db, this.tableName, {
      put: {
        Item: { pk: `TASKNO#${taskNo}`, sk: 'TASKNO', type: 'taskNo', taskId, expiresAt },
        ConditionExpression: 'attribute_not_exists(pk) OR taskId = :task',
        ExpressionAttributeValues: { ':task': taskId },
      },
    })
    // The condition admits the owner itself: a retry of its own claim (or a second one) is made.
    return outcome.made
  }
}
