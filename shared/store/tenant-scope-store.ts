import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb'
import type { TenantScope, TenantScopeStore } from '../tenants/tenant-scope.ts'
import { putVersioned, storeCall, withoutTableKeys } from './dynamodb.ts'

const keyOf = (tenant: string) => ({ pk: `TENANT#${tenant}`, sk: 'TENANT' })

/** One item per tenant: `TENANT#<tenant>`, every write conditional on its version. */
export class DynamoDbTenantScopeStore implements TenantScopeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tenant: string): Promise<TenantScope | undefined> {
    const result = await storeCall('GetItem', () =>
      this.db.send(
        new GetCommand({ TableName: this.tableName, Key: keyOf(tenant), ConsistentRead: true }),
      ),
    )
    return result.Item ? (withoutTableKeys(result.Item) as unknown as TenantScope) : undefined
  }

  save(next: Omit<TenantScope, 'version'>, expectedVersion: number | undefined): Promise<boolean> {
    const item = { ...next, ...keyOf(next.tenant), type: 'tenant' }
    return putVersioned(this.db, this.tableName, item, expectedVersion)
  }
}
