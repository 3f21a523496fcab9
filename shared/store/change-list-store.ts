import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { Change } from '../changes/change.ts'
import type { ChangeFilter, ChangeList } from '../changes/change-list.ts'
import { withoutTableKeys } from './dynamodb.ts'
import { listFilter, queryOwnerPage } from './index-query.ts'

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
    const { names, values, conditions } = listFilter(now)
    // Accepted changes only: a `proposed` or `withdrawn` one is never shown (see `isAccepted`).
    Object.assign(values, { ':running': 'running', ':succeeded': 'succeeded', ':failed': 'failed' })
    names['#status'] = 'status'
    conditions.push('#status IN (:running, :succeeded, :failed)')
    if (filter.status) {
      values[':status'] = filter.status
      conditions.push('#status = :status')
    }
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
    const page = await queryOwnerPage(this.db, {
      tableName: this.tableName,
      owner: changePartition(tenant),
      conditions,
      names,
      values,
      limit,
      start,
      isKind: (at) => at.sk === 'CHANGE',
    })
    return {
      items: page.items.map((item) => withoutTableKeys(item) as unknown as Change),
      next: page.next,
    }
  }
}
