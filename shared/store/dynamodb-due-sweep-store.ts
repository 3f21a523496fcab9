import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type {
  DueSweepState,
  DueSweepStore,
  OverdueItem,
  OverduePage,
} from '../poller/due-sweep-store.ts'
import { MAX_SHARDS } from '../poller/shard-work.ts'
import {
  getItem,
  putVersioned,
  storeCall,
  withoutTableKeys,
  writeConditionally,
} from './dynamodb.ts'
import { dueIndexKeys, openIndexKeys } from './open-index.ts'
import { INDEX_OPEN } from './table-definition.ts'

/** Overdue and not leased, or a task left `submitting` with no due time at all. */
const OVERDUE =
  '(attribute_not_exists(lease) OR lease.#until < :now) AND ' +
  '(dueAt < :before OR (#status = :submitting AND attribute_not_exists(dueAt)))'
const OVERDUE_NAMES = { '#until': 'until', '#status': 'status' }
const overdueValues = (dueBefore: number, now: number) => ({
  ':now': now,
  ':before': dueBefore,
  ':submitting': 'submitting',
})

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
    const state = withoutTableKeys(item)
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

  async overdueItems(
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
          FilterExpression: OVERDUE,
          ExpressionAttributeNames: OVERDUE_NAMES,
          ExpressionAttributeValues: {
            ':shard': `OPEN#${at.shard}`,
            ...overdueValues(dueBefore, now),
          },
          Limit: pageSize,
          ExclusiveStartKey: at.after,
        }),
      ),
    )
    const items = (result.Items ?? []).map((entry) => ({
      pk: String(entry.pk),
      sk: String(entry.sk),
    }))
    // Every shard there may ever have been (DUE_SHARDS is at most MAX_SHARDS): an item written
    // while the count was larger is found — and rewritten into the current shards — after it shrank.
    const next: SweepCursor | undefined = result.LastEvaluatedKey
      ? { shard: at.shard, after: result.LastEvaluatedKey }
      : at.shard + 1 < MAX_SHARDS
        ? { shard: at.shard + 1 }
        : undefined
    return {
      items,
      cursor: next as Record<string, unknown> | undefined,
      examined: result.ScannedCount ?? 0,
    }
  }

  async makeDue(item: OverdueItem, dueBefore: number, now: number): Promise<boolean> {
    const current = await getItem(this.db, this.tableName, { pk: item.pk, sk: item.sk })
    const version = current?.version
    if (!current || typeof version !== 'number') return false
    const { lease, ...rest } = current as Record<string, unknown> & {
      lease?: { until?: number }
      dueAt?: number
      status?: string
    }
    const leased = lease?.until !== undefined && lease.until >= now
    const overdue =
      (typeof rest.dueAt === 'number' && rest.dueAt < dueBefore) ||
      (rest.dueAt === undefined && rest.status === 'submitting')
    if (leased || !overdue) return false
    const id = item.pk.slice(item.pk.indexOf('#') + 1)
    const dueAt = Math.min(typeof rest.dueAt === 'number' ? rest.dueAt : now, now)
    const outcome = await writeConditionally(this.db, this.tableName, {
      put: {
        Item: {
          ...rest,
          ...dueIndexKeys(id, dueAt, this.shardCount),
          ...openIndexKeys(id, true, this.shardCount),
          version: version + 1,
        },
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': version },
      },
    })
    return outcome.made
  }
}
