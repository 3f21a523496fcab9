import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { EventSequence } from '../events/event-sequence.ts'
import { WRITE_ID, writeConditionally } from './dynamodb.ts'

/**
 * One counter item per domain (`SEQ#<domain>`), moved on by an atomic `ADD`: DynamoDB applies each
 * increment alone and answers it with the new value, so two callers never get one number. The only
 * condition is the write's own id: an increment is never applied twice for one call.
 */
export class DynamoDbEventSequence implements EventSequence {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async next(domain: string): Promise<number> {
    // A retry of an increment already applied (its answer lost) meets its own write id and is not
    // applied twice: it answers the number the first attempt took.
    const outcome = await writeConditionally(this.db, this.tableName, {
      update: {
        Key: { pk: `SEQ#${domain}`, sk: 'SEQ' },
        UpdateExpression: 'ADD #sequence :one SET #type = :type',
        ConditionExpression: `attribute_not_exists(#${WRITE_ID}) OR #${WRITE_ID} <> :${WRITE_ID}`,
        ExpressionAttributeNames: { '#sequence': 'sequence', '#type': 'type' },
        ExpressionAttributeValues: { ':one': 1, ':type': 'eventSequence' },
        ReturnValues: 'UPDATED_NEW',
      },
    })
    if (!outcome.made) throw new Error('an increment met a write id not its own')
    return Number(outcome.item?.sequence)
  }
}
