import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type { PerDomainStore } from '../ports/per-domain-store.ts'
import { deleteVersioned, getItem, putVersioned, storeCall, withoutTableKeys } from './dynamodb.ts'
import { INDEX_BY_OWNER } from './table-definition.ts'

export class DynamoDbPerDomainStore<T extends { readonly domain: string; readonly version: number }>
  implements PerDomainStore<T>
{
  /**
   * @param kind the item's `type`, its sort key, its key prefix (`<KIND>#<domain>`), and its
   *   partition in the owner index
   */
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly kind: string,
  ) {}

  #key(domain: string) {
    return { pk: `${this.kind}#${domain}`, sk: this.kind }
  }

  async get(domain: string): Promise<T | undefined> {
    const item = await getItem(this.db, this.tableName, this.#key(domain))
    return item ? fromItem<T>(item) : undefined
  }

  save(next: Omit<T, 'version'>, expectedVersion: number | undefined): Promise<boolean> {
    const item = {
      ...next,
      ...this.#key(next.domain),
      type: this.kind,
      gsi1pk: this.kind,
      gsi1sk: next.domain,
    }
    return putVersioned(this.db, this.tableName, item, expectedVersion)
  }

  remove(domain: string, expectedVersion: number): Promise<boolean> {
    return deleteVersioned(this.db, this.tableName, this.#key(domain), expectedVersion)
  }

  async list(limit: number, start: Record<string, unknown> | undefined) {
    const page = await storeCall('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_BY_OWNER,
          KeyConditionExpression: 'gsi1pk = :kind',
          ExpressionAttributeValues: { ':kind': this.kind },
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      ),
    )
    return {
      items: (page.Items ?? []).map((item) => fromItem<T>(item)),
      next: page.LastEvaluatedKey,
    }
  }
}

function fromItem<T>(item: Record<string, unknown>): T {
  return withoutTableKeys(item) as unknown as T
}
