import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb'
import type { DueSweepState, DueSweepStore, OverduePage } from '../poller/due-sweep-store.ts'
import { getItem, putVersioned, storeCall } from './dynamodb.ts'
import { taskFromItem } from './task-store.ts'

const KEY = { pk: 'SWEEP#due', sk: 'SWEEP' }

export class DynamoDbDueSweepStore implements DueSweepStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
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
    const result = await storeCall('Scan', () =>
      this.db.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression:
            '#type = :task AND (attribute_not_exists(lease) OR lease.#until < :now) AND ' +
            '(dueAt < :before OR (#status = :submitting AND attribute_not_exists(dueAt)))',
          ExpressionAttributeNames: { '#type': 'type', '#until': 'until', '#status': 'status' },
          ExpressionAttributeValues: {
            ':task': 'task',
            ':now': now,
            ':before': dueBefore,
            ':submitting': 'submitting',
          },
          Limit: pageSize,
          ExclusiveStartKey: cursor,
          ConsistentRead: true,
        }),
      ),
    )
    const items = (result.Items ?? []).map(taskFromItem)
    return { items, cursor: result.LastEvaluatedKey }
  }
}
