import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { toEpochSeconds } from '../epoch.ts'
import type { DueItem, DueItemStore } from '../ports/due-item-store.ts'
import {
  claimLease,
  getItem,
  putVersioned,
  withoutTableKeys,
  writeConditionally,
} from './dynamodb.ts'
import { dueIndexKeys, openIndexKeys } from './open-index.ts'

/**
 * Items kept like tasks: `<PREFIX>#<id>`, in the sparse due index while `dueAt` is set (so the
 * poller's due-index reads find them beside tasks), every write conditional.
 */
export class DynamoDbDueItemStore<T extends DueItem> implements DueItemStore<T> {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly shardCount: number,
    private readonly prefix: string,
    private readonly type: string,
    /** Index attributes the item carries besides its key (owner or event index). */
    private readonly indexKeys: (item: T) => Record<string, string> = () => ({}),
    /** Whether work lies ahead of the item (it is then in the open-work index). */
    private readonly isOpen: (item: T) => boolean = (item) => item.dueAt !== undefined,
  ) {}

  #toItem(item: T): Record<string, unknown> {
    const { dueAt, ...rest } = item
    return {
      ...rest,
      pk: `${this.prefix}#${item.id}`,
      sk: this.prefix,
      type: this.type,
      ...this.indexKeys(item),
      ...openIndexKeys(item.id, this.isOpen(item), this.shardCount),
      ...dueIndexKeys(item.id, dueAt, this.shardCount),
    }
  }

  create(item: T): Promise<boolean> {
    return putVersioned(this.db, this.tableName, this.#toItem({ ...item, version: 0 }), undefined)
  }

  async get(id: string, now: number): Promise<T | undefined> {
    const item = await getItem(this.db, this.tableName, {
      pk: `${this.prefix}#${id}`,
      sk: this.prefix,
    })
    if (!item) return undefined
    if (typeof item.expiresAt === 'number' && item.expiresAt <= toEpochSeconds(now))
      return undefined
    return withoutTableKeys(item) as unknown as T
  }

  async claim(
    id: string,
    lease: { owner: string; until: number },
    now: number,
  ): Promise<T | undefined> {
    const key = { pk: `${this.prefix}#${id}`, sk: this.prefix }
    const item = await claimLease(this.db, this.tableName, key, lease, now)
    return item ? (withoutTableKeys(item) as unknown as T) : undefined
  }

  replace(next: T, expectedVersion: number): Promise<boolean> {
    return putVersioned(this.db, this.tableName, this.#toItem(next), expectedVersion)
  }

  async nudge(id: string, at: number): Promise<void> {
    await writeConditionally(this.db, this.tableName, {
      update: {
        Key: { pk: `${this.prefix}#${id}`, sk: this.prefix },
        UpdateExpression: 'SET dueAt = :at',
        ConditionExpression: 'dueAt > :at',
        ExpressionAttributeValues: { ':at': at },
      },
    })
  }
}
