import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { toEpochSeconds } from '../epoch.ts'
import type { EventLog, EventPage, EventQuery, LoggedEvent } from '../events/event-log.ts'
import type { WebhookEvent } from '../events/webhook-event.ts'
import { InvalidCursorError } from '../http/cursor.ts'
import { storeCall, withoutTableKeys } from './dynamodb.ts'
import { eventPartition } from './event-index.ts'
import { INDEX_BY_EVENT } from './table-definition.ts'
import { taskFromItem } from './task-store.ts'

/** Reads the `byEvent` index: stored events and final tasks, one query per page. */
export class DynamoDbEventLog implements EventLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(
    tenant: string,
    query: EventQuery,
    limit: number,
    start: Record<string, unknown> | undefined,
    now: number,
  ): Promise<EventPage> {
    const names: Record<string, string> = {}
    const values: Record<string, unknown> = {
      ':owner': eventPartition(tenant),
      ':now': toEpochSeconds(now),
    }
    let keyCondition = 'evpk = :owner'
    if (query.since) {
      keyCondition += ' AND evsk >= :since'
      values[':since'] = query.since
    }
    const conditions = ['(attribute_not_exists(expiresAt) OR expiresAt > :now)']
    if (query.type?.startsWith('task.')) {
      names['#kind'] = 'type'
      names['#status'] = 'status'
      values[':task'] = 'task'
      values[':status'] = query.type.slice('task.'.length)
      values[':type'] = query.type
      // A task's own event, or a test event of a task type.
      conditions.push('((#kind = :task AND #status = :status) OR eventType = :type)')
    } else if (query.type) {
      values[':type'] = query.type
      conditions.push('eventType = :type')
    }
    const items: LoggedEvent[] = []
    let startKey = start === undefined ? undefined : eventIndexKey(start, eventPartition(tenant))
    // A filtered query can return short pages; keep reading until the page is full.
    do {
      const page = await storeCall('Query', () =>
        this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEX_BY_EVENT,
            KeyConditionExpression: keyCondition,
            FilterExpression: conditions.join(' AND '),
            ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
            ExpressionAttributeValues: values,
            ScanIndexForward: query.order === 'asc',
            Limit: limit - items.length,
            ExclusiveStartKey: startKey,
          }),
        ),
      )
      for (const item of page.Items ?? []) items.push(loggedEventOf(item))
      startKey = page.LastEvaluatedKey
    } while (startKey && items.length < limit)
    return { items, next: startKey }
  }
}

function loggedEventOf(item: Record<string, unknown>): LoggedEvent {
  return item.type === 'task'
    ? { kind: 'task', task: taskFromItem(item) }
    : { kind: 'event', event: withoutTableKeys(item) as unknown as WebhookEvent }
}

const EVENT_INDEX_KEY_NAMES = ['evpk', 'evsk', 'pk', 'sk']

/** A position in the event index as DynamoDB returns it, in this tenant's partition. */
function eventIndexKey(start: Record<string, unknown>, owner: string): Record<string, string> {
  const names = Object.keys(start).sort()
  const shaped =
    names.length === EVENT_INDEX_KEY_NAMES.length &&
    names.every((name, index) => name === EVENT_INDEX_KEY_NAMES[index]) &&
    Object.values(start).every((value) => typeof value === 'string' && value.length <= 1024)
  if (!shaped || start.evpk !== owner) {
    throw new InvalidCursorError('the cursor is not one this API returned')
  }
  return start as Record<string, string>
}
