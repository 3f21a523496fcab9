import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { toEpochSeconds } from '../epoch.ts'
import type { RateCounterStore } from '../tenants/rate-limit.ts'
import { WRITE_ID, writeConditionally } from './dynamodb.ts'

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
    const outcome = await writeConditionally(this.db, this.tableName, {
      update: {
        Key: { pk: `RATE#${key}`, sk: 'RATE' },
        UpdateExpression:
          'ADD used :count SET expiresAt = if_not_exists(expiresAt, :expires), #type = :type',
        // Under the limit, and never counted twice for one call (a retry meets its own write id).
        ConditionExpression: `(attribute_not_exists(used) OR used <= :most) AND (attribute_not_exists(#${WRITE_ID}) OR #${WRITE_ID} <> :${WRITE_ID})`,
        ExpressionAttributeNames: { '#type': 'type' },
        ExpressionAttributeValues: {
          ':count': count,
          ':most': limit - count,
          ':expires': toEpochSeconds(expiresAt),
          ':type': 'rate',
        },
        ReturnValues: 'UPDATED_NEW',
      },
    })
    return outcome.made ? Number(outcome.item?.used ?? count) : undefined
  }
}
