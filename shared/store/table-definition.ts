import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb'

/**
 * One table for every item (task, API key, target lock, …), keyed for its access patterns:
 * - `pk`/`sk`: the item itself (`TASK#<id>`, `KEY#<id>`, `TARGET#<name>`, …).
 * - `byOwner` (`gsi1pk`/`gsi1sk`): a tenant's tasks newest first (`TENANT#<t>`, `<createdAt>#<id>`),
 *   and the list of API keys (`APIKEYS`).
 * - `byEvent` (`evpk`/`evsk`): sparse; a tenant's events in the order they happened
 *   (`EVENTS#<t>`, `<occurredAt>#<webhook id>`): stored events, and tasks once final (a task's
 *   final state is its event, written in the same item, so no event is ever missing from it).
 * - `due` (`dueShard`/`dueAt`): sparse; only items with work due (a task to poll or reconcile,
 *   a callback to send) carry these, spread over `DUE#0..n` so no partition runs hot.
 * - `byOpen` (`openShard`/`openSk`): sparse; exactly the items with work ahead — tasks not final
 *   or whose callback is still to be sent, running changes, events to deliver (`OPEN#0..n`,
 *   `<id>`) — with the attributes the due-index sweep filters on: the sweep reads open work
 *   only, however much history the table keeps (no Scan anywhere).
 * Finished items carry `expiresAt` (epoch seconds) for TTL, and reads skip expired items too.
 */
export const INDEX_BY_OWNER = 'byOwner'
export const INDEX_BY_EVENT = 'byEvent'
export const INDEX_DUE = 'due'
export const INDEX_OPEN = 'byOpen'
export const TTL_ATTRIBUTE = 'expiresAt'

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'gsi1pk', AttributeType: 'S' },
      { AttributeName: 'gsi1sk', AttributeType: 'S' },
      { AttributeName: 'evpk', AttributeType: 'S' },
      { AttributeName: 'evsk', AttributeType: 'S' },
      { AttributeName: 'dueShard', AttributeType: 'S' },
      { AttributeName: 'dueAt', AttributeType: 'N' },
      { AttributeName: 'openShard', AttributeType: 'S' },
      { AttributeName: 'openSk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: INDEX_BY_OWNER,
        KeySchema: [
          { AttributeName: 'gsi1pk', KeyType: 'HASH' },
          { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: INDEX_BY_EVENT,
        KeySchema: [
          { AttributeName: 'evpk', KeyType: 'HASH' },
          { AttributeName: 'evsk', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: INDEX_DUE,
        KeySchema: [
          { AttributeName: 'dueShard', KeyType: 'HASH' },
          { AttributeName: 'dueAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
      {
        IndexName: INDEX_OPEN,
        KeySchema: [
          { AttributeName: 'openShard', KeyType: 'HASH' },
          { AttributeName: 'openSk', KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: ['status', 'dueAt', 'lease'],
        },
      },
    ],
  }
}
