import { type Command, Option } from 'commander'
import { type CommandContext, collectPages, fields, table, UsageError, unwrap } from './cli-kit.ts'
import type { components, GatewayEvent } from './index.ts'

/**
 * Every event type, as the document's `EventType` names them: a record over that union, so the
 * compiler refuses a list missing a type or naming one the gateway does not send.
 */
const EVENT_TYPE_SET: Record<components['schemas']['EventType'], true> = {
  'task.succeeded': true,
  'task.failed': true,
  'task.partially_failed': true,
  'task.rejected': true,
  'task.unknown': true,
  'change.succeeded': true,
  'change.failed': true,
  'domain.drifted': true,
  'domain.in_sync': true,
  'dnssec.ds.submitted': true,
  'dnssec.ds.published': true,
  'dnssec.rollover.completed': true,
  'dnssec.rollover.stuck': true,
  'dnssec.scan.failed': true,
  'publication.served': true,
  'publication.late': true,
  ping: true,
}
export const EVENT_TYPES = Object.keys(EVENT_TYPE_SET)

export const sinceOption = () =>
  new Option(
    '--since <time>',
    'events at or after this time (ISO 8601, or 15m / 2h / 1d ago)',
  ).argParser(parseSince)

/** `2026-11-23T08:00:00Z`, or a span back from now: `90s`, `15m`, `2h`, `1d`. */
export function parseSince(value: string): string {
  const span = /^(\d+)([smhd])$/.exec(value)
  if (span) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 's']
    return new Date(Date.now() - Number(span[1]) * unit).toISOString()
  }
  const at = Date.parse(value)
  if (Number.isNaN(at)) throw new UsageError(`--since ${value}: an ISO 8601 time or 15m, 2h, 1d`)
  return new Date(at).toISOString()
}

const eventRow = (event: GatewayEvent) => ({
  ...event,
  delivery: event.delivery.state,
  attempts: event.delivery.attempts,
  test: event.test ? 'test' : undefined,
})

/** `events`, `changes`, `listen` and `webhooks test`: the developer's loop around events. */
export function addEventCommands(program: Command, { client, print }: CommandContext): void {
  const events = program
    .command('events')
    .description(
      'events sent to the key’s tenant: task, change, domain, DNSSEC, test (needs --key)',
    )
  events
    .command('list')
    .description('list events, newest first')
    .addOption(new Option('--type <type>', 'only this type').choices(EVENT_TYPES))
    .addOption(sinceOption())
    .option('--limit <n>', 'how many (1-100 per page)', (value) => Number(value), 20)
    .option('--all', 'follow the pages to the end')
    .action(async (options: { type?: string; since?: string; limit: number; all?: boolean }) => {
      const tenant = client('tenant')
      const items = await collectPages(options.all, async (cursor) =>
        unwrap(
          await tenant.GET('/events', {
            params: {
              query: {
                type: options.type as never,
                since: options.since,
                limit: options.limit,
                cursor,
              },
            },
          }),
        ),
      )
      print(items, () =>
        table(items.map(eventRow), ['id', 'type', 'subject', 'timestamp', 'delivery', 'test']),
      )
    })
  events
    .command('show <id>')
    .description('one event: its body data and delivery (id: the webhook-id, msg_…)')
    .action(async (id: string) => {
      const event = unwrap(await client('tenant').GET('/events/{id}', { params: { path: { id } } }))
      print(event, () => fields(event as Record<string, unknown>))
    })
  events
    .command('deliveries <id>')
    .description("an event's delivery attempts")
    .action(async (id: string) => {
      const log = unwrap(
        await client('tenant').GET('/events/{id}/deliveries', { params: { path: { id } } }),
      )
      print(log, () =>
        table(log.attempts, ['attempt', 'at', 'outcome', 'statusCode', 'durationMs', 'error']),
      )
    })
  events
    .command('resend <id>')
    .description('send an event again to its callback URL (same webhook-id and body)')
    .action(async (id: string) => {
      const event = unwrap(
        await client('tenant').POST('/events/{id}/redeliver', { params: { path: { id } } }),
      )
      print(event, () => `scheduled: ${event.id} (${event.type}, delivery ${event.delivery.state})`)
    })
  events
    .command('recover')
    .description('send again every event since a time whose delivery failed (after an outage)')
    .addOption(sinceOption().makeOptionMandatory())
    .action(async (options: { since: string }) => {
      const tenant = client('tenant')
      let since = options.since
      const scheduled: string[] = []
      for (;;) {
        const result = unwrap(await tenant.POST('/events/recover', { body: { since } }))
        scheduled.push(...result.scheduled)
        if (result.complete || !result.resumeSince) break
        since = result.resumeSince
      }
      print({ scheduled }, () =>
        scheduled.length === 0
          ? 'nothing to send again'
          : `scheduled ${scheduled.length}:\n${scheduled.join('\n')}`,
      )
    })
}
