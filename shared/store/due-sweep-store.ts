import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type { DueSweepState, DueSweepStore, OverduePage } from '../poller/due-sweep-store.ts'
import type { Task } from '../tasks/task.ts'
import { getItem, putVersioned, storeCall } from './dynamodb.ts'
import { INDEX_OPEN } from './table-definition.ts'
import { taskFromItem } from './task-store.ts'

const KEY = { pk: 'SWEEP#due', sk: 'SWEEP' }

/** Where a pass is: the open-work shard, and the key to go on from inside it. */
interface SweepCursor {
  readonly shard: number
  readonly after?: Record<string, unknown> | undefined
}

const cursorOf = (value: Record<string, unknown> | undefined): SweepCursor => {
  const shard = typeof value?.shard === 'number' ? value.shard : 0
  const after = value?.after
  return {
    shard,
    after: after && typeof after === 'object' ? (after as Record<string, unknown>) : undefined,
  }
}

export class DynamoDbDueSweepStore implements DueSweepStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly shardCount: number,
  ) {}

  async state(): Promise<DueSweepState | undefined> {
    const item = await getItem(this.db, this.tableName, KEY)
    if (!item) return undefined
    const { pk: _pk, sk: _sk, type: _type, ...state } = item
    return state as unknown as DueSweepState
  }

  save(next: Omit<DueSweepState, 'version'>, expectedVersion: number | undefined) {
    return putVersioned(
      this.db,
      this.tableName,
      { ...KEY, type: 'sweep', ...next },
      expectedVersion,
    )
  }

  async overdueTasks(
    dueBefore: number,
    now: number,
    cursor: Record<string, unknown> | undefined,
    pageSize: number,
  ): Promise<OverduePage> {
    const at = cursorOf(cursor)
    const result = await storeCall('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_OPEN,
          KeyConditionExpression: 'openShard = :shard',
          FilterExpression:
            '(attribute_not_exists(lease) OR lease.#until < :now) AND ' +
            '(dueAt < :before OR (#status = :submitting AND attribute_not_exists(dueAt)))',
          ExpressionAttributeNames: { '#until': 'until', '#status': 'status' },
          ExpressionAttributeValues: {
            ':shard': `OPEN#${at.shard}`,
            ':now': now,
            ':before': dueBefore,
            ':submitting': 'submitting',
          },
          Limit: pageSize,
          ExclusiveStartKey: at.after,
        }),
      ),
    )
    // The index holds what the filter needs; the task itself is read whole (and consistently).
    const items: Task[] = []
    for (const entry of result.Items ?? []) {
      const item = await getItem(this.db, this.tableName, { pk: entry.pk, sk: entry.sk })
      if (item) items.push(taskFromItem(item))
    }
    const next: SweepCursor | undefined = result.LastEvaluatedKey
      ? { shard: at.shard, after: result.LastEvaluatedKey }
      : at.shard + 1 < this.shardCount
        ? { shard: at.shard + 1 }
        : undefined
    return {
      items,
      cursor: next as Record<string, unknown> | undefined,
      examined: result.ScannedCount ?? 0,
    }
  }
}
