import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb'
import { toEpochSeconds } from '../epoch.ts'
import { InvalidCursorError } from '../http/cursor.ts'
import { storeCall } from './dynamodb.ts'
import { INDEX_BY_OWNER } from './table-definition.ts'

/**
 * The filter every list starts from, for its conditions to be added to: an item past its expiry
 * is not listed, though DynamoDB's TTL may not have deleted it yet (it takes up to days).
 */
export function listFilter(now: number): {
  readonly names: Record<string, string>
  readonly values: Record<string, unknown>
  readonly conditions: string[]
} {
  return {
    names: {},
    values: { ':now': toEpochSeconds(now) },
    conditions: ['(attribute_not_exists(expiresAt) OR expiresAt > :now)'],
  }
}

/**
 * One page of a filtered index query: reads on until `limit` items or the end, since a filter can
 * make DynamoDB return short (even empty) pages. `next` is where the following page starts.
 */
export async function queryFilteredPage(
  db: DynamoDBDocumentClient,
  input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
  limit: number,
  start: Record<string, unknown> | undefined,
): Promise<{ items: Record<string, unknown>[]; next: Record<string, unknown> | undefined }> {
  const items: Record<string, unknown>[] = []
  let startKey = start
  do {
    const page = await storeCall('Query', () =>
      db.send(
        new QueryCommand({ ...input, Limit: limit - items.length, ExclusiveStartKey: startKey }),
      ),
    )
    items.push(...(page.Items ?? []))
    startKey = page.LastEvaluatedKey
  } while (startKey && items.length < limit)
  return { items, next: startKey }
}

/**
 * A position in an index exactly as DynamoDB returns it (`LastEvaluatedKey`): the index's two key
 * attributes and the table's, all strings, in `partition`, and passing `also`. Anything else would
 * reach DynamoDB as a malformed `ExclusiveStartKey`, so it is refused as a cursor this API never
 * returned.
 */
export function indexPosition(
  start: Record<string, unknown>,
  keys: { readonly hash: string; readonly range: string },
  partition: string,
  also: (start: Record<string, unknown>) => boolean = () => true,
): Record<string, string> {
  const expected = [keys.hash, keys.range, 'pk', 'sk'].sort()
  const names = Object.keys(start).sort()
  const shaped =
    names.length === expected.length &&
    names.every((name, index) => name === expected[index]) &&
    Object.values(start).every((value) => typeof value === 'string' && value.length <= 1024)
  if (!shaped || start[keys.hash] !== partition || !also(start)) {
    throw new InvalidCursorError('the cursor is not one this API returned')
  }
  return start as Record<string, string>
}

/**
 * One page of an owner's items in `byOwner` (a tenant's tasks, its changes), newest first, kept
 * by `conditions` (unexpired, and the list's filters) and starting at `start`, a cursor checked
 * to be a position in that owner's partition at an item of the kind (`isKind`).
 */
export function queryOwnerPage(
  db: DynamoDBDocumentClient,
  query: {
    readonly tableName: string
    readonly owner: string
    readonly conditions: readonly string[]
    readonly names: Record<string, string>
    readonly values: Record<string, unknown>
    readonly limit: number
    readonly start: Record<string, unknown> | undefined
    readonly isKind: (position: Record<string, unknown>) => boolean
  },
): ReturnType<typeof queryFilteredPage> {
  return queryFilteredPage(
    db,
    {
      TableName: query.tableName,
      IndexName: INDEX_BY_OWNER,
      KeyConditionExpression: 'gsi1pk = :owner',
      FilterExpression: query.conditions.join(' AND '),
      ExpressionAttributeNames: Object.keys(query.names).length > 0 ? query.names : undefined,
      ExpressionAttributeValues: { ...query.values, ':owner': query.owner },
      ScanIndexForward: false,
    },
    query.limit,
    query.start === undefined
      ? undefined
      : indexPosition(query.start, { hash: 'gsi1pk', range: 'gsi1sk' }, query.owner, query.isKind),
  )
}
