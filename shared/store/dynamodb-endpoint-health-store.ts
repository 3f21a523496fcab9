import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { EndpointHealth, EndpointHealthStore } from '../webhooks/endpoint-health-store.ts'
import { getItem, putVersioned, queryPartition, storeCall, withoutTableKeys } from './dynamodb.ts'
import { apiKeyFromItem, apiKeyItemKey } from './dynamodb-api-key-store.ts'

const pkOf = (keyId: string) => `ENDPOINT#${keyId}`

export class DynamoDbEndpointHealthStore implements EndpointHealthStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(keyId: string, endpoint: string): Promise<EndpointHealth | undefined> {
    const item = await getItem(this.db, this.tableName, { pk: pkOf(keyId), sk: endpoint })
    return item ? fromItem(item) : undefined
  }

  async getWithKey(keyId: string, endpoint: string) {
    const healthKey = { pk: pkOf(keyId), sk: endpoint }
    let wanted = [healthKey, apiKeyItemKey(keyId)]
    const found: Record<string, unknown>[] = []
    // The service may leave keys unprocessed under load: read those again (a few times at most).
    for (let round = 0; round < 5 && wanted.length > 0; round++) {
      const result = await storeCall('BatchGetItem', () =>
        this.db.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: wanted, ConsistentRead: true } },
          }),
        ),
      )
      found.push(...(result.Responses?.[this.tableName] ?? []))
      wanted = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof wanted
    }
    if (wanted.length > 0) throw new Error('DynamoDB left a delivery read unprocessed')
    const health = found.find((item) => item.pk === healthKey.pk && item.sk === endpoint)
    const key = found.find((item) => item.pk !== healthKey.pk)
    return {
      health: health ? fromItem(health) : undefined,
      key: key ? apiKeyFromItem(key) : undefined,
    }
  }

  save(next: Omit<EndpointHealth, 'version'>, expectedVersion: number | undefined) {
    const item = { ...next, pk: pkOf(next.keyId), sk: next.endpoint, type: 'endpoint' }
    return putVersioned(this.db, this.tableName, item, expectedVersion)
  }

  async list(keyId: string): Promise<EndpointHealth[]> {
    const options = { consistent: true, limit: 100 }
    return (await queryPartition(this.db, this.tableName, pkOf(keyId), options)).map(fromItem)
  }
}

function fromItem(item: Record<string, unknown>): EndpointHealth {
  return withoutTableKeys(item) as unknown as EndpointHealth
}
