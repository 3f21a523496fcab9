import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb'
import type { DeliveryAttempt, DeliveryLogStore } from '../webhooks/delivery-log.ts'
import { queryPartition, storeCall } from './dynamodb.ts'

/** Attempts live in the task's own partition (`TASK#<id>`, `ATTEMPT#0001`…), one item each. */
export class DynamoDbDeliveryLogStore implements DeliveryLogStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(taskId: string, attempt: DeliveryAttempt, expiresAt: number): Promise<void> {
    await storeCall('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `TASK#${taskId}`,
            sk: `ATTEMPT#${String(attempt.attempt).padStart(4, '0')}#${attempt.at}`,
            type: 'deliveryAttempt',
            ...attempt,
            expiresAt,
          },
        }),
      ),
    )
  }

  async list(taskId: string): Promise<DeliveryAttempt[]> {
    const items = await queryPartition(this.db, this.tableName, `TASK#${taskId}`, {
      skPrefix: 'ATTEMPT#',
    })
    return items.map((item) => {
      const { pk: _pk, sk: _sk, type: _type, expiresAt: _expires, ...attempt } = item
      return attempt as unknown as DeliveryAttempt
    })
  }
}
