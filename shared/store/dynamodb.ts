import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import type { StoreConfig } from '../config/gateway-config.ts'
import { toEpochSeconds } from '../epoch.ts'
import { StoreUnavailableError } from '../errors.ts'

/** The store could not be reached or answered with an error that is not ours to handle. */
export function createDocumentClient(config: StoreConfig): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          // The local engine accepts any credentials; real ones come from the Lambda role.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
    maxAttempts: 3,
  })
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  })
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException'
}

/** Runs a store operation, turning infrastructure failures into {@link StoreUnavailableError}. */
export async function storeCall<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (isConditionalCheckFailed(error)) throw error
    throw new StoreUnavailableError(`DynamoDB ${operation} failed: ${(error as Error).message}`, {
      cause: error,
    })
  }
}

/** Runs a conditional write: true when it was made, false when its condition did not hold. */
export async function conditionalWrite(operation: string, run: () => Promise<unknown>) {
  try {
    await storeCall(operation, run)
    return true
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false
    throw error
  }
}

type Key = Record<string, unknown>

/** Reads one item (strongly consistent unless `consistent` is false); undefined when there is none. */
export async function getItem(
  db: DynamoDBDocumentClient,
  tableName: string,
  key: Key,
  consistent = true,
): Promise<Record<string, unknown> | undefined> {
  const result = await storeCall('GetItem', () =>
    db.send(
      new GetCommand({
        TableName: tableName,
        Key: key,
        ...(consistent ? { ConsistentRead: true } : {}),
      }),
    ),
  )
  return result.Item
}

/** Creates an item only if none has its key: true when it was created. */
export function putIfAbsent(
  db: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
): Promise<boolean> {
  return conditionalWrite('PutItem', () =>
    db.send(
      new PutCommand({
        TableName: tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  )
}

/** The items of one partition (those whose sort key starts with `skPrefix`), one page of `limit`. */
export async function queryPartition(
  db: DynamoDBDocumentClient,
  tableName: string,
  pk: string,
  options: { readonly skPrefix?: string; readonly consistent?: boolean; readonly limit?: number },
): Promise<Record<string, unknown>[]> {
  const { skPrefix, consistent, limit } = options
  const result = await storeCall('Query', () =>
    db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: skPrefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk, ...(skPrefix ? { ':prefix': skPrefix } : {}) },
        ...(consistent ? { ConsistentRead: true } : {}),
        ...(limit ? { Limit: limit } : {}),
      }),
    ),
  )
  return result.Items ?? []
}

/** Deletes an item only if it is still at `expectedVersion`: true when it was deleted. */
export function deleteVersioned(
  db: DynamoDBDocumentClient,
  tableName: string,
  key: Key,
  expectedVersion: number,
): Promise<boolean> {
  return conditionalWrite('DeleteItem', () =>
    db.send(
      new DeleteCommand({
        TableName: tableName,
        Key: key,
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': expectedVersion },
      }),
    ),
  )
}

/**
 * Puts an item with optimistic locking: only if it is still at `expectedVersion` (or, with none,
 * does not exist yet); the stored version becomes one more.
 */
export function putVersioned(
  db: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  expectedVersion: number | undefined,
): Promise<boolean> {
  return conditionalWrite('PutItem', () =>
    db.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...item, version: (expectedVersion ?? 0) + 1 },
        ConditionExpression:
          expectedVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :expected',
        ExpressionAttributeValues:
          expectedVersion === undefined ? undefined : { ':expected': expectedVersion },
      }),
    ),
  )
}

/**
 * Takes the lease of a due item and reads it in one conditional update (`ReturnValues: ALL_NEW`):
 * only if it exists, has not expired, is due by `now`, and holds no live lease — not even one of
 * `lease.owner`'s own, so two workers of one run never hold an item at once. The version goes up
 * by one, as with every write, so a writer that read the item before the claim loses its race.
 * Undefined when the condition did not hold.
 */
export async function claimLease(
  db: DynamoDBDocumentClient,
  tableName: string,
  key: { pk: string; sk: string },
  lease: { owner: string; until: number },
  now: number,
): Promise<Record<string, unknown> | undefined> {
  try {
    const result = await storeCall('UpdateItem', () =>
      db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET #lease = :lease, #version = #version + :one',
          ConditionExpression:
            'attribute_exists(pk) AND dueAt <= :now' +
            ' AND (attribute_not_exists(expiresAt) OR expiresAt > :nowSeconds)' +
            ' AND (attribute_not_exists(#lease) OR #lease.#until <= :now)',
          ExpressionAttributeNames: { '#lease': 'lease', '#version': 'version', '#until': 'until' },
          ExpressionAttributeValues: {
            ':lease': lease,
            ':one': 1,
            ':now': now,
            ':nowSeconds': toEpochSeconds(now),
          },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    )
    return result.Attributes
  } catch (error) {
    if (isConditionalCheckFailed(error)) return undefined
    throw error
  }
}

/** An item as the code knows it: without the table's keys, its kind and its index attributes. */
export function withoutTableKeys(item: Record<string, unknown>): Record<string, unknown> {
  const {
    pk: _pk,
    sk: _sk,
    type: _type,
    gsi1pk: _g1,
    gsi1sk: _g2,
    evpk: _e1,
    evsk: _e2,
    dueShard: _ds,
    openShard: _os,
    openSk: _ok,
    ...rest
  } = item
  return rest
}
