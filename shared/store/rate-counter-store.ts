import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { toEpochSeconds } from '../epoch.ts'
import type { RateCounterStore } from '../tenants/rate-limit.ts'
import { isConditionalCheckFailed, storeCall } from './dynamodb.ts'

/** One item per tenant, kind and window (`RATE#<tenant>#<kind>#<window>`), gone by TTL after it. */
export class DynamoDbRateCounterStore implements RateCounterStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async take(
    key: string,
    count: number,
    limit: number,
    expiresAt: number,
  ): Promise<number | undefined> {
    try {
      const result = await storeCall('UpdateItem', () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: `RATE#${key}`, sk: 'RATE' },
            UpdateExpression:
              'ADD used :count SET expiresAt = if_not_exists(expiresAt, :expires), #type = :type',
            ConditionExpression: 'attribute_not_exists(used) OR used <= :most',
            ExpressionAttributeNames: { '#type': 'type' },
            ExpressionAttributeValues: {
              ':count': count,
              ':most': limit - count,
              ':expires': toEpochSeconds(expiresAt),
              ':type': 'rate',
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      )
      return Number(result.Attributes?.used ?? count)
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined
      throw error
    }
  }
}
