import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type { Change } from '../changes/change.ts'
import type { ChangeFilter, ChangeList } from '../changes/change-list.ts'
import { toEpochSeconds } from '../epoch.ts'
import { InvalidCursorError } from '../http/cursor.ts'
import { storeCall, withoutTableKeys } from './dynamodb.ts'
import { INDEX_BY_OWNER } from './table-definition.ts'

const changePartition = (tenant: string) => `CHANGES#${tenant}`

/** The owner index attributes of a change: its tenant's changes, newest first. */
export const changeOwnerKeys = (change: Change): Record<string, string> => ({
  gsi1pk: changePartition(change.tenant),
  gsi1sk: `${change.createdAt}#${change.id}`,
})

/** Reads a tenant's changes from the owner index; proposals never shown (see `isAccepted`). */
export class DynamoDbChangeList implements ChangeList {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(
    tenant: string,
    filter: ChangeFilter,
    limit: number,
    start: Record<string, unknown> | undefined,
    now: number,
  ) {
    const values: Record<string, unknown> = {
      ':owner': changePartition(tenant),
      ':now': toEpochSeconds(now),
      ':running': 'running',
      ':succeeded': 'succeeded',
      ':failed': 'failed',
    }
    const conditions = [
      '(attribute_not_exists(expiresAt) OR expiresAt > :now)',
      '#status IN (:running, :succeeded, :failed)',
    ]
    if (filter.status) {
      values[':status'] = filter.status
      conditions.push('#status = :status')
    }
    const names: Record<string, string> = { '#status': 'status' }
    if (filter.domain) {
      names['#domain'] = 'domain'
      values[':domain'] = filter.domain
      conditions.push('#domain = :domain')
    }
    if (filter.kind) {
      names['#kind'] = 'kind'
      values[':kind'] = filter.kind
      conditions.push('#kind = :kind')
    }
    const items: Change[] = []
    let startKey = start === undefined ? undefined : ownerKey(start, changePartition(tenant))
    do {
      const page = await storeCall('Query', () =>
        this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEX_BY_OWNER,
            KeyConditionExpression: 'gsi1pk = :owner',
            FilterExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            Limit: limit - items.length,
            ExclusiveStartKey: startKey,
          }),
        ),
      )
      for (const item of page.Items ?? []) items.push(withoutTableKeys(item) as unknown as Change)
      startKey = page.LastEvaluatedKey
    } while (startKey && items.length < limit)
    return { items, next: startKey }
  }
}

const OWNER_KEY_NAMES = ['gsi1pk', 'gsi1sk', 'pk', 'sk']

function ownerKey(start: Record<string, unknown>, owner: string): Record<string, string> {
  const names = Object.keys(start).sort()
  const shaped =
    names.length === OWNER_KEY_NAMES.length &&
    names.every((name, index) => name === OWNER_KEY_NAMES[index]) &&
    Object.values(start).every((value) => typeof value === 'string' && value.length <= 1024)
  if (!shaped || start.gsi1pk !== owner || start.sk !== 'CHANGE') {
    throw new InvalidCursorError('the cursor is not one this API returned')
  }
  return start as Record<string, string>
}
