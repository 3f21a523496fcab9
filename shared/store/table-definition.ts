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

type Projection = NonNullable<
  NonNullable<CreateTableCommandInput['GlobalSecondaryIndexes']>[number]['Projection']
>

/** A key of two attributes: the partition (HASH) and the sort (RANGE) key. */
const keyOf = (hash: string, range: string) => [
  { AttributeName: hash, KeyType: 'HASH' as const },
  { AttributeName: range, KeyType: 'RANGE' as const },
]

const index = (name: string, hash: string, range: string, projection: Projection) => ({
  IndexName: name,
  KeySchema: keyOf(hash, range),
  Projection: projection,
})

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
    KeySchema: keyOf('pk', 'sk'),
    GlobalSecondaryIndexes: [
      index(INDEX_BY_OWNER, 'gsi1pk', 'gsi1sk', { ProjectionType: 'ALL' }),
      index(INDEX_BY_EVENT, 'evpk', 'evsk', { ProjectionType: 'ALL' }),
      index(INDEX_DUE, 'dueShard', 'dueAt', { ProjectionType: 'KEYS_ONLY' }),
      index(INDEX_OPEN, 'openShard', 'openSk', {
        ProjectionType: 'INCLUDE',
        NonKeyAttributes: ['status', 'dueAt', 'lease'],
      }),
    ],
  }
}
