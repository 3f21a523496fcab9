import type { Change } from '../changes/change.ts'
import { eventWebhookId, type WebhookEvent } from '../events/webhook-event.ts'
import type { Metrics } from '../metrics.ts'
import type { PublicationWatch } from '../publication/publication.ts'
import { callbackOpen } from '../tasks/task.ts'
import { changeOwnerKeys, DynamoDbChangeList } from './change-list-store.ts'
import { DynamoDbDeliveryLogStore } from './delivery-log-store.ts'
import { DynamoDbDnssecStateStore } from './dnssec-state-store.ts'
import { DynamoDbDomainAssignmentStore } from './domain-assignment-store.ts'
import { DynamoDbDomainStateStore } from './domain-state-store.ts'
import { createDocumentClient } from './dynamodb.ts'
import { DynamoDbApiKeyStore } from './dynamodb-api-key-store.ts'
import { DynamoDbBucketStore } from './dynamodb-bucket-store.ts'
import { DynamoDbDueItemStore } from './dynamodb-due-item-store.ts'
import { DynamoDbDueSweepStore } from './dynamodb-due-sweep-store.ts'
import { DynamoDbEndpointHealthStore } from './dynamodb-endpoint-health-store.ts'
import { DynamoDbTaskNoRegistry, DynamoDbTaskStore } from './dynamodb-task-store.ts'
import { eventIndexKeys } from './event-index.ts'
import { DynamoDbEventLog } from './event-log-store.ts'
import { DynamoDbEventSequence } from './event-sequence-store.ts'
import { DynamoDbRateCounterStore } from './rate-counter-store.ts'
import type { StoreSettings } from './store-settings.ts'
import { DynamoDbTargetLockStore } from './target-lock-store.ts'
import { DynamoDbTenantScopeStore } from './tenant-scope-store.ts'

/**
 * Every store of the one table, sharing one DynamoDB client. With `metrics`, the client counts the
 * requests the SDK retried (`StoreRetries`) and the writes recognised as made after their answer
 * was lost (`StoreWritesRecovered`), by operation.
 */
export function createStores(config: StoreSettings, metrics?: Metrics) {
  const db = createDocumentClient(config, {
    retried: (operation, retries) =>
      metrics?.add('StoreRetries', retries, { dimensions: { Operation: operation } }),
    recovered: (operation) =>
      metrics?.add('StoreWritesRecovered', 1, { dimensions: { Operation: operation } }),
  })
  const table = config.tableName
  return {
    tasks: new DynamoDbTaskStore(db, table, config.dueShards),
    taskNos: new DynamoDbTaskNoRegistry(db, table),
    apiKeys: new DynamoDbApiKeyStore(db, table),
    deliveries: new DynamoDbDeliveryLogStore(db, table),
    dueSweep: new DynamoDbDueSweepStore(db, table, config.dueShards),
    endpoints: new DynamoDbEndpointHealthStore(db, table),
    targetLocks: new DynamoDbTargetLockStore(db, table),
    changes: new DynamoDbDueItemStore<Change>(
      db,
      table,
      config.dueShards,
      'CHANGE',
      'change',
      changeOwnerKeys,
      (change) => change.status === 'running',
    ),
    changeList: new DynamoDbChangeList(db, table),
    publications: new DynamoDbDueItemStore<PublicationWatch>(
      db,
      table,
      config.dueShards,
      'PUBLICATION',
      'publication',
      () => ({}),
      (watch) => watch.state === 'following',
    ),
    events: new DynamoDbDueItemStore<WebhookEvent>(
      db,
      table,
      config.dueShards,
      'EVENT',
      'event',
      (event) => eventIndexKeys(event.tenant, event.occurredAt, eventWebhookId(event)),
      (event) => callbackOpen(event.callback),
    ),
    eventLog: new DynamoDbEventLog(db, table),
    eventSequence: new DynamoDbEventSequence(db, table),
    domainStates: new DynamoDbDomainStateStore(db, table),
    dnssecStates: new DynamoDbDnssecStateStore(db, table),
    tenantScopes: new DynamoDbTenantScopeStore(db, table),
    domainAssignments: new DynamoDbDomainAssignmentStore(db, table),
    rateCounters: new DynamoDbRateCounterStore(db, table),
    buckets: new DynamoDbBucketStore(db, table),
  }
}
