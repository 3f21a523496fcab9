import {
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb'
import { InvalidCursorError } from '../http/cursor.ts'
import { storeCall } from './dynamodb.ts'

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
