import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { DomainAssignment } from '../tenants/domain-assignment.ts'
import { DynamoDbPerDomainStore } from './dynamodb-per-domain-store.ts'

/** Stored as `ASSIGNED#<domain>`; listed through the owner index's `ASSIGNED` partition. */
export class DynamoDbDomainAssignmentStore extends DynamoDbPerDomainStore<DomainAssignment> {
  constructor(db: DynamoDBDocumentClient, tableName: string) {
    super(db, tableName, 'ASSIGNED')
  }
}
