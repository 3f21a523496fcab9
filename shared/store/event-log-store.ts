import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import type { EventLog, EventPage, EventQuery, LoggedEvent } from '../events/event-log.ts'
import type { WebhookEvent } from '../events/webhook-event.ts'
import { withoutTableKeys } from './dynamodb.ts'
import { taskFromItem } from './dynamodb-task-store.ts'
import { eventPartition } from './event-index.ts'
import { indexPosition, listFilter, queryFilteredPage } from './index-query.ts'
import { INDEX_BY_EVENT } from './table-definition.ts'

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
    const { names, values, conditions } = listFilter(now)
    values[':owner'] = eventPartition(tenant)
    let keyCondition = 'evpk = :owner'
    if (query.since) {
      keyCondition += ' AND evsk >= :since'
      values[':since'] = query.since
    }
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
    const owner = eventPartition(tenant)
    const page = await queryFilteredPage(
      this.db,
      {
        TableName: this.tableName,
        IndexName: INDEX_BY_EVENT,
        KeyConditionExpression: keyCondition,
        FilterExpression: conditions.join(' AND '),
        ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
        ExpressionAttributeValues: values,
        ScanIndexForward: query.order === 'asc',
      },
      limit,
      start === undefined
        ? undefined
        : indexPosition(start, { hash: 'evpk', range: 'evsk' }, owner),
    )
    return { items: page.items.map(loggedEventOf), next: page.next }
  }
}

function loggedEventOf(item: Record<string, unknown>): LoggedEvent {
  return item.type === 'task'
    ? { kind: 'task', task: taskFromItem(item) }
    : { kind: 'event', event: withoutTableKeys(item) as unknown as WebhookEvent }
}
