import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { TenantScope, TenantScopeStore } from '../tenants/tenant-scope.ts'
import { getItem, putVersioned, withoutTableKeys } from './dynamodb.ts'

const keyOf = (tenant: string) => ({ pk: `TENANT#${tenant}`, sk: 'TENANT' })

/** One item per tenant: `TENANT#<tenant>`, every write conditional on its version. */
export class DynamoDbTenantScopeStore implements TenantScopeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenant: string): Promise<TenantScope | undefined> {
    const item = await getItem(this.db, this.tableName, keyOf(tenant))
    return item ? (withoutTableKeys(item) as unknown as TenantScope) : undefined
  }

  save(next: Omit<TenantScope, 'version'>, expectedVersion: number | undefined): Promise<boolean> {
    const item = { ...next, ...keyOf(next.tenant), type: 'tenant' }
    return putVersioned(this.db, this.tableName, item, expectedVersion)
  }
}
