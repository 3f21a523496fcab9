import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { BucketStore } from '../upstream-rate/bucket-store.ts'
import type { BucketState } from '../upstream-rate/token-bucket.ts'
import { getItem, putVersioned } from './dynamodb.ts'

const keyOf = (account: string) => ({ pk: `BUCKET#${account}`, sk: 'BUCKET' })

/** The upstream token buckets: one item per account, every write conditional on its version. */
export class DynamoDbBucketStore implements BucketStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(account: string): Promise<{ state: BucketState; version: number } | undefined> {
    const item = await getItem(this.db, this.tableName, keyOf(account))
    if (!item || typeof item.version !== 'number') return undefined
    const { tokens, at, slowUntil, slowFactor } = item as Record<string, number | undefined>
    return {
      state: { tokens: tokens ?? 0, at: at ?? 0, slowUntil, slowFactor },
      version: item.version,
    }
  }

  write(account: string, state: BucketState, expectedVersion: number | undefined) {
    return putVersioned(
      this.db,
      this.tableName,
      { ...keyOf(account), type: 'bucket', ...state },
      expectedVersion,
    )
  }
}
