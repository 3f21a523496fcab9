import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb'
import type { ApiKey } from '../auth/api-keys.ts'
import { apiKeyFromItem, apiKeyItemKey } from './api-key-store.ts'
import { putVersioned, storeCall } from './dynamodb.ts'

/**
 * How one callback endpoint (an API key's callbacks to one URL origin) is doing. Absent while all
 * is well; written only when a delivery fails, or succeeds after failures.
 */
export interface EndpointHealth {
  readonly keyId: string
  /** The endpoint: the callback URL's origin. */
  readonly endpoint: string
  /** Failed attempts in a row, across all of the key's tasks to this endpoint. */
  readonly failures: number
  /** When the current run of failures began. */
  readonly failingSince?: string | undefined
  /** Until when no delivery to the endpoint is attempted, epoch ms. */
  readonly backoffUntil?: number | undefined
  /** Set when the endpoint has failed for too long; cleared only by an admin. */
  readonly disabledAt?: string | undefined
  readonly lastError?: string | undefined
  readonly version: number
}

export interface EndpointHealthStore {
  get(keyId: string, endpoint: string): Promise<EndpointHealth | undefined>
  /**
   * The endpoint's health and the API key whose secrets sign its callbacks, in one consistent
   * read: a delivery signs with the key as it is now (a rotated secret at once), at no extra cost.
   */
  getWithKey(
    keyId: string,
    endpoint: string,
  ): Promise<{ health: EndpointHealth | undefined; key: ApiKey | undefined }>
  /** Writes if still at `expectedVersion` (undefined: not yet written). */
  save(next: Omit<EndpointHealth, 'version'>, expectedVersion: number | undefined): Promise<boolean>
  list(keyId: string): Promise<EndpointHealth[]>
}

const pkOf = (keyId: string) => `ENDPOINT#${keyId}`

export class DynamoDbEndpointHealthStore implements EndpointHealthStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(keyId: string, endpoint: string): Promise<EndpointHealth | undefined> {
    const result = await storeCall('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(keyId), sk: endpoint },
          ConsistentRead: true,
        }),
      ),
    )
    return result.Item ? fromItem(result.Item) : undefined
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
    const result = await storeCall('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pkOf(keyId) },
          ConsistentRead: true,
          Limit: 100,
        }),
      ),
    )
    return (result.Items ?? []).map(fromItem)
  }
}

function fromItem(item: Record<string, unknown>): EndpointHealth {
  const { pk: _pk, sk: _sk, type: _type, ...health } = item
  return health as unknown as EndpointHealth
}
