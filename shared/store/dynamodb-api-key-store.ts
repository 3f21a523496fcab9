import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type { ApiKeyStore } from '../auth/api-key-store.ts'
import type { ApiKey } from '../auth/api-keys.ts'
import { getItem, storeCall, withoutTableKeys, writeConditionally } from './dynamodb.ts'
import { INDEX_BY_OWNER } from './table-definition.ts'

const pkOf = (id: string) => `KEY#${id}`
const SK = 'KEY'

/** Where a key's item is, for a read batched with other items (see endpoint-health-store.ts). */
export const apiKeyItemKey = (id: string) => ({ pk: pkOf(id), sk: SK })

export function apiKeyFromItem(item: Record<string, unknown>): ApiKey {
  const key = withoutTableKeys(item)
  return key as unknown as ApiKey
}

export class DynamoDbApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  #toItem(key: ApiKey) {
    return {
      ...key,
      pk: pkOf(key.id),
      sk: SK,
      type: 'apiKey',
      gsi1pk: 'APIKEYS',
      gsi1sk: `${key.createdAt}#${key.id}`,
    }
  }

  #fromItem(item: Record<string, unknown>): ApiKey {
    return apiKeyFromItem(item)
  }

  async #put(item: Record<string, unknown>, condition: string, values?: Record<string, unknown>) {
    const outcome = await writeConditionally(this.db, this.tableName, {
      put: { Item: item, ConditionExpression: condition, ExpressionAttributeValues: values },
    })
    return outcome.made
  }

  create(key: ApiKey): Promise<boolean> {
    return this.#put(this.#toItem(key), 'attribute_not_exists(pk)')
  }

  replace(next: ApiKey, expectedVersion: number): Promise<boolean> {
    return this.#put(
      this.#toItem({ ...next, version: expectedVersion + 1 }),
      'version = :expected',
      {
        ':expected': expectedVersion,
      },
    )
  }

  async get(id: string): Promise<ApiKey | undefined> {
    // (Eventually consistent: authentication reads it through a cache anyway.)
    const item = await getItem(this.db, this.tableName, { pk: pkOf(id), sk: SK }, false)
    return item ? this.#fromItem(item) : undefined
  }

  async list(limit: number): Promise<ApiKey[]> {
    const result = await storeCall('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_BY_OWNER,
          KeyConditionExpression: 'gsi1pk = :keys',
          ExpressionAttributeValues: { ':keys': 'APIKEYS' },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    )
    return (result.Items ?? []).map((item) => this.#fromItem(item))
  }
}
