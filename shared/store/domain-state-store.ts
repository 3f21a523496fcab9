import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { DomainState } from '../changes/domain-state.ts'
import { DynamoDbPerDomainStore } from './dynamodb-per-domain-store.ts'

/** Stored as `MANAGED#<domain>`; listed through the owner index's `MANAGED` partition. */
export class DynamoDbDomainStateStore extends DynamoDbPerDomainStore<DomainState> {
  constructor(db: DynamoDBDocumentClient, tableName: string) {
    super(db, tableName, 'MANAGED')
  }
}
