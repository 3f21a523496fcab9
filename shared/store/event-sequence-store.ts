import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import type { EventSequence } from '../events/event-sequence.ts'
import { storeCall } from './dynamodb.ts'

/**
 * One counter item per domain (`SEQ#<domain>`), moved on by an atomic `ADD`: DynamoDB applies each
 * increment alone and answers it with the new value, so two callers never get one number and no
 * condition is needed — there is no state to race for, only a number to take.
 */
export class DynamoDbEventSequence implements EventSequence {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async next(domain: string): Promise<number> {
    const result = await storeCall('UpdateItem', () =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `SEQ#${domain}`, sk: 'SEQ' },
          UpdateExpression: 'ADD #sequence :one SET #type = :type',
          ExpressionAttributeNames: { '#sequence': 'sequence', '#type': 'type' },
          ExpressionAttributeValues: { ':one': 1, ':type': 'eventSequence' },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    )
    return Number(result.Attributes?.sequence)
  }
}
