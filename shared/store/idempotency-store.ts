import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import type { StoredAnswer } from '../tasks/task.ts'
import { isConditionalCheckFailed, storeCall, toEpochSeconds } from './dynamodb.ts'

/** A response as first sent, kept to be sent again for a retry with the same key. */
export type StoredResponse = StoredAnswer

export interface IdempotencyRecord {
  readonly tenant: string
  readonly key: string
  /** SHA-256 of the request (method, path, body) the key was first used with. */
  readonly requestHash: string
  readonly status: 'in_progress' | 'completed'
  /** The task this key created or is creating. */
  readonly taskId: string
  /** While in progress: until when the first request holds the key, epoch ms. */
  readonly lockedUntil: number
  /** Epoch seconds; the key may be reused after this. */
  readonly expiresAt: number
  readonly response?: StoredResponse | undefined
}

export type BeginResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly existing: IdempotencyRecord }

export interface IdempotencyStore {
  /** Claims a key for a new request; or returns the record that holds it. */
  begin(record: IdempotencyRecord, now: number): Promise<BeginResult>
  /** Takes over a key whose holder's lock ran out; false if someone else did. */
  takeOver(record: IdempotencyRecord, lockedUntil: number, now: number): Promise<boolean>
  complete(record: IdempotencyRecord, response: StoredResponse): Promise<boolean>
  /** Frees the key so the same request can be retried (after a retryable failure). */
  release(record: IdempotencyRecord): Promise<boolean>
}

const pkOf = (tenant: string, key: string) => `IDEM#${tenant}#${key}`
const SK = 'IDEM'

/** The record from a failed write's `Item`: raw attribute values (DynamoDB) or already plain. */
function plainRecord(item: Record<string, unknown>): IdempotencyRecord {
  const raw = typeof item.pk === 'object' && item.pk !== null && 'S' in item.pk
  return (raw ? unmarshall(item as Record<string, AttributeValue>) : item) as IdempotencyRecord
}

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async begin(record: IdempotencyRecord, now: number): Promise<BeginResult> {
    const Key = { pk: pkOf(record.tenant, record.key), sk: SK }
    try {
      await storeCall('PutItem', () =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...Key, type: 'idempotency', ...record },
            // Free, or held by a record that has expired (TTL deletion is late; do not wait for it).
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
            ExpressionAttributeValues: { ':now': toEpochSeconds(now) },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      )
      return { acquired: true }
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error
      // DynamoDB returns the item that failed the condition in raw attribute-value form: the
      // document client does not translate it (aws-sdk-js-v3#6723). Engines without the option
      // return nothing, and the record is read instead.
      const old = (error as { Item?: Record<string, unknown> }).Item
      const existing = old ? plainRecord(old) : await this.#get(Key)
      // Deleted between the write and the read: try once more.
      if (!existing) return this.begin(record, now)
      return { acquired: false, existing }
    }
  }

  async #get(Key: Record<string, string>): Promise<IdempotencyRecord | undefined> {
    const result = await storeCall('GetItem', () =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true })),
    )
    return result.Item as IdempotencyRecord | undefined
  }

  async takeOver(record: IdempotencyRecord, lockedUntil: number, now: number): Promise<boolean> {
    return this.#conditional(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(record.tenant, record.key), sk: SK },
          UpdateExpression: 'SET lockedUntil = :next',
          ConditionExpression:
            '#status = :inProgress AND lockedUntil = :seen AND lockedUntil <= :now AND taskId = :task',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':next': lockedUntil,
            ':inProgress': 'in_progress',
            ':seen': record.lockedUntil,
            ':now': now,
            ':task': record.taskId,
          },
        }),
      ),
    )
  }

  async complete(record: IdempotencyRecord, response: StoredResponse): Promise<boolean> {
    return this.#conditional(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(record.tenant, record.key), sk: SK },
          UpdateExpression: 'SET #status = :completed, #response = :response',
          ConditionExpression: '#status = :inProgress AND taskId = :task',
          ExpressionAttributeNames: { '#status': 'status', '#response': 'response' },
          ExpressionAttributeValues: {
            ':completed': 'completed',
            ':inProgress': 'in_progress',
            ':response': response,
            ':task': record.taskId,
          },
        }),
      ),
    )
  }

  async release(record: IdempotencyRecord): Promise<boolean> {
    return this.#conditional(() =>
      this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(record.tenant, record.key), sk: SK },
          ConditionExpression: '#status = :inProgress AND taskId = :task',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inProgress': 'in_progress', ':task': record.taskId },
        }),
      ),
    )
  }

  async #conditional(run: () => Promise<unknown>): Promise<boolean> {
    try {
      await storeCall('write', run)
      return true
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false
      throw error
    }
  }
}
