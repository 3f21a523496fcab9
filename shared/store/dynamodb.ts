import { randomUUID } from 'node:crypto'
import { type AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  DeleteCommand,
  type DeleteCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import { toEpochSeconds } from '../epoch.ts'
import { StoreUnavailableError } from '../errors.ts'
import type { StoreSettings } from './store-settings.ts'

/** What the store client reports: attempts the SDK retried, and own writes whose answer was lost. */
export interface StoreObserver {
  /** A request needed `retries` attempts beyond its first (throttled, 5xx, reset). */
  retried?(operation: string, retries: number): void
  /** A conditional write applied, its answer lost, and its retry's failed condition seen as its own. */
  recovered?(operation: string): void
}

const observers = new WeakMap<DynamoDBDocumentClient, StoreObserver>()

/**
 * The one DynamoDB client of a process. The SDK retries throttling, 5xx answers and broken
 * connections with its back-off, up to `maxAttempts`; a retried write may meet its own first
 * attempt, which {@link writeConditionally} recognises.
 */
export function createDocumentClient(
  config: StoreSettings,
  observer: StoreObserver = {},
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: config.region,
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          // The local engine accepts any credentials; real ones come from the Lambda role.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
    maxAttempts: config.maxAttempts,
  })
  // Outside the retry middleware: sees a request once, with the attempts it took.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const report = (metadata: { attempts?: number } | undefined) => {
        const retries = (metadata?.attempts ?? 1) - 1
        if (retries > 0) observer.retried?.(String(context.commandName ?? 'unknown'), retries)
      }
      try {
        const result = await next(args)
        report((result.output as { $metadata?: { attempts?: number } }).$metadata)
        return result
      } catch (error) {
        report((error as { $metadata?: { attempts?: number } }).$metadata)
        throw error
      }
    },
    { step: 'initialize', name: 'countStoreRetries' },
  )
  const db = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  })
  observers.set(db, observer)
  return db
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
    const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts
    const after =
      attempts === undefined ? '' : ` after ${attempts} attempt${attempts === 1 ? '' : 's'}`
    throw new StoreUnavailableError(
      `DynamoDB ${operation} failed${after}: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

/**
 * The attribute every conditional write stamps with an id of its own, so that the write can be
 * recognised when it meets itself (see {@link writeConditionally}).
 */
export const WRITE_ID = 'writeId'

type Item = Record<string, unknown>

/** A conditional write: a put, an update or a delete, without the table's name. */
export type ConditionalWrite =
  | { readonly put: Omit<PutCommandInput, 'TableName'> }
  | { readonly update: Omit<UpdateCommandInput, 'TableName'> }
  | { readonly delete: Omit<DeleteCommandInput, 'TableName'> }

export type WriteOutcome =
  | {
      readonly made: true
      /**
       * The item the write asked back (`ReturnValues`); when its answer was lost, the whole item
       * as it was read back (it still carries this write's id, so nothing came after it).
       */
      readonly item: Item | undefined
    }
  | {
      readonly made: false
      /** The item that failed the condition (undefined: there is none). */
      readonly item: Item | undefined
    }

/**
 * The item a failed condition returned. DynamoDB returns it in raw attribute-value form: the
 * document client does not translate it (aws-sdk-js-v3#6723); every item has a string `pk`.
 */
function plainItem(item: Item): Item {
  const raw = typeof item.pk === 'object' && item.pk !== null && 'S' in item.pk
  return raw ? unmarshall(item as Record<string, AttributeValue>) : item
}

/** Adds `#writeId = :writeId` to an update's SET clause (a clause type appears at most once). */
function stampUpdate(expression: string): string {
  const stamp = `#${WRITE_ID} = :${WRITE_ID}`
  return /\bSET\s/i.test(expression)
    ? expression.replace(/\bSET\s/i, `SET ${stamp}, `)
    : `SET ${stamp} ${expression}`
}

/**
 * One conditional write that can tell its own applied write from a race it lost.
 *
 * DynamoDB may apply a write and lose the answer (a 500, a reset connection). The SDK then sends
 * it again; the retry finds the first attempt's effect and its condition fails. Every put and
 * update is therefore stamped with a fresh id ({@link WRITE_ID}); when the condition fails, the
 * item that failed it — returned with the failure (`ReturnValuesOnConditionCheckFailure`), or
 * read once, consistently, where the engine does not return it — is compared: its own id means
 * the write was made and nothing has written the item since; another id means the race was lost.
 * A delete leaves nothing to compare: an item gone is what it asked for.
 *
 * When the store fails even after the SDK's retries, the outcome is unknown: one consistent read
 * that finds the write's id (or, for a delete, no item) settles it as made; anything else keeps
 * the failure ({@link StoreUnavailableError}), and the caller treats the write as possibly made.
 *
 * A write whose answer was lost and whose item was written again by someone else before its retry
 * is reported as lost: the conservative side, as before this existed.
 */
export async function writeConditionally(
  db: DynamoDBDocumentClient,
  tableName: string,
  write: ConditionalWrite,
  writeId: string = randomUUID(),
): Promise<WriteOutcome> {
  const { operation, key, send } = commandOf(db, tableName, write, writeId)
  const isOwn = (item: Item | undefined) =>
    'delete' in write ? item === undefined : item?.[WRITE_ID] === writeId
  const recovered = (item: Item | undefined): WriteOutcome => {
    observers.get(db)?.recovered?.(operation)
    return { made: true, item }
  }
  try {
    const result = (await storeCall(operation, send)) as { Attributes?: Item }
    return { made: true, item: result.Attributes }
  } catch (error) {
    if (isConditionalCheckFailed(error)) {
      const returned = (error as { Item?: Item }).Item
      const item = returned ? plainItem(returned) : await getItem(db, tableName, key)
      return isOwn(item) ? recovered(item) : { made: false, item }
    }
    // Unknown outcome: only a read that shows the write settles it (a failed read settles nothing).
    const read = await getItem(db, tableName, key).then(
      (item) => ({ item }),
      () => undefined,
    )
    if (read && isOwn(read.item)) return recovered(read.item)
    throw error
  }
}

function commandOf(
  db: DynamoDBDocumentClient,
  tableName: string,
  write: ConditionalWrite,
  writeId: string,
) {
  const failure = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const }
  if ('put' in write) {
    const input = {
      ...write.put,
      ...failure,
      TableName: tableName,
      Item: { ...write.put.Item, [WRITE_ID]: writeId },
    }
    const item = write.put.Item as Item
    return {
      operation: 'PutItem',
      key: { pk: item.pk, sk: item.sk },
      send: () => db.send(new PutCommand(input)),
    }
  }
  if ('update' in write) {
    const { update } = write
    const input = {
      ...update,
      ...failure,
      TableName: tableName,
      UpdateExpression: stampUpdate(update.UpdateExpression ?? ''),
      ExpressionAttributeNames: { ...update.ExpressionAttributeNames, [`#${WRITE_ID}`]: WRITE_ID },
      ExpressionAttributeValues: { ...update.ExpressionAttributeValues, [`:${WRITE_ID}`]: writeId },
    }
    return {
      operation: 'UpdateItem',
      key: update.Key as Item,
      send: () => db.send(new UpdateCommand(input)),
    }
  }
  const input = { ...write.delete, ...failure, TableName: tableName }
  return {
    operation: 'DeleteItem',
    key: write.delete.Key as Item,
    send: () => db.send(new DeleteCommand(input)),
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
export async function putIfAbsent(
  db: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
): Promise<boolean> {
  const outcome = await writeConditionally(db, tableName, {
    put: { Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
  })
  return outcome.made
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

/** Deletes an item only if it is still at `expectedVersion`: true when it is gone. */
export async function deleteVersioned(
  db: DynamoDBDocumentClient,
  tableName: string,
  key: Key,
  expectedVersion: number,
): Promise<boolean> {
  const outcome = await writeConditionally(db, tableName, {
    delete: {
      Key: key,
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': expectedVersion },
    },
  })
  return outcome.made
}

/**
 * Puts an item with optimistic locking: only if it is still at `expectedVersion` (or, with none,
 * does not exist yet); the stored version becomes one more.
 */
export async function putVersioned(
  db: DynamoDBDocumentClient,
  tableName: string,
  item: Record<string, unknown>,
  expectedVersion: number | undefined,
): Promise<boolean> {
  const outcome = await writeConditionally(db, tableName, {
    put: {
      Item: { ...item, version: (expectedVersion ?? 0) + 1 },
      ConditionExpression:
        expectedVersion === undefined ? 'attribute_not_exists(pk)' : 'version = :expected',
      ExpressionAttributeValues:
        expectedVersion === undefined ? undefined : { ':expected': expectedVersion },
    },
  })
  return outcome.made
}

/**
 * Takes the lease of a due item and reads it in one conditional update (`ReturnValues: ALL_NEW`):
 * only if it exists, has not expired, is due by `now`, and holds no live lease — not even one of
 * `lease.owner`'s own, so two workers of one run never hold an item at once. The version goes up
 * by one, as with every write, so a writer that read the item before the claim loses its race.
 * Undefined when the condition did not hold (a claim whose answer was lost is recognised as made).
 */
export async function claimLease(
  db: DynamoDBDocumentClient,
  tableName: string,
  key: { pk: string; sk: string },
  lease: { owner: string; until: number },
  now: number,
): Promise<Record<string, unknown> | undefined> {
  const outcome = await writeConditionally(db, tableName, {
    update: {
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
    },
  })
  return outcome.made ? outcome.item : undefined
}

/** An item as the code knows it: without the table's keys, its kind, its index attributes and the id of the write that made it. */
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
    [WRITE_ID]: _writeId,
    ...rest
  } = item
  return rest
}
