import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { DnssecState } from '../dnssec-automation/dnssec-state.ts'
import { DynamoDbPerDomainStore } from './dynamodb-per-domain-store.ts'

/** Stored as `DNSSEC#<domain>`; listed through the owner index's `DNSSEC` partition. */
export class DynamoDbDnssecStateStore extends DynamoDbPerDomainStore<DnssecState> {
  constructor(db: DynamoDBDocumentClient, tableName: string) {
    super(db, tableName, 'DNSSEC')
  }
}
