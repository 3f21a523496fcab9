import { type Command, Option } from 'commander'
import {
  type CommandContext,
  collectPages,
  EXIT,
  fields,
  table,
  UsageError,
  unwrap,
} from './cli-kit.ts'
import { type components, type GatewayEvent, waitForChange } from './index.ts'
import { followEvents, forwardEvent, newListenSecret } from './listen.ts'

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
const EVENT_TYPES = Object.keys(EVENT_TYPE_SET)

const sinceOption = () =>
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
export function addEventCommands(program: Command, { io, client, print }: CommandContext): void {
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

  const changes = program
    .command('changes')
    .description('desired-state changes of the key’s tenant (needs --key)')
  changes
    .command('list')
    .description('list changes, newest first')
    .addOption(new Option('--status <status>').choices(['running', 'succeeded', 'failed']))
    .option('--domain <domain>', 'only changes of this domain')
    .addOption(new Option('--kind <kind>').choices(['ds', 'name-servers']))
    .option('--limit <n>', 'how many (1-100 per page)', (value) => Number(value), 20)
    .action(async (options: { status?: string; domain?: string; kind?: string; limit: number }) => {
      const page = unwrap(
        await client('tenant').GET('/changes', {
          params: {
            query: {
              status: options.status as never,
              domain: options.domain,
              kind: options.kind as never,
              limit: options.limit,
            },
          },
        }),
      )
      print(page.items, () =>
        table(
          page.items.map((change) => ({ ...change, steps: change.steps.length })),
          ['id', 'domain', 'kind', 'status', 'trigger', 'steps', 'createdAt'],
        ),
      )
    })
  changes
    .command('show <id>')
    .description('one change, with where each step stands')
    .action(async (id: string) => {
      const change = unwrap(
        await client('tenant').GET('/changes/{id}', { params: { path: { id } } }),
      )
      print(change, () => fields(change as Record<string, unknown>))
    })
  changes
    .command('wait <id>')
    .description('wait until a change is final, then show it (exit 1 unless it succeeded)')
    .option('--timeout <seconds>', 'give up after (exit 4)', (value) => Number(value), 300)
    .action(async (id: string, options: { timeout: number }) => {
      const change = await waitForChange(client('tenant'), id, {
        timeoutMs: options.timeout * 1000,
        intervalMs: 1_000,
      })
      print(change, () => fields(change as Record<string, unknown>))
      if (change.status !== 'succeeded') process.exitCode = EXIT.problem
    })

  program
    .command('webhooks')
    .description('webhook tools (needs --key)')
    .command('test')
    .description(
      "send a signed test event of any type (its data a sample) to the key's callback URL, or --to; with neither it is only stored, for `listen`",
    )
    .addOption(new Option('--event <type>', 'the event type').choices(EVENT_TYPES).default('ping'))
    .option('--to <url>', 'where to send it')
    .action(async (options: { event: string; to?: string }) => {
      const attempt = unwrap(
        await client('tenant').POST('/webhooks/test', {
          body: { type: options.event as never, ...(options.to ? { url: options.to } : {}) },
        }),
      )
      print(attempt, () => fields(attempt as Record<string, unknown>))
      if (attempt.outcome !== 'delivered' && attempt.outcome !== 'stored') {
        process.exitCode = EXIT.problem
      }
    })

  program
    .command('listen')
    .description(
      "follow the tenant's events and forward each, signed, to a local URL (like `stripe listen`)",
    )
    .requiredOption(
      '--forward-to <url>',
      'where to POST each event (e.g. http://localhost:3000/hooks)',
    )
    .option('--secret <whsec>', 'the secret to sign with (default: a new one, printed)')
    .addOption(new Option('--type <type...>', 'only these types').choices(EVENT_TYPES))
    .addOption(sinceOption())
    .option('--max-events <n>', 'stop after forwarding this many', (value) => Number(value))
    .option('--interval <ms>', 'how often to look for new events', (value) => Number(value), 1000)
    .action(
      async (options: {
        forwardTo: string
        secret?: string
        type?: string[]
        since?: string
        maxEvents?: number
        interval: number
      }) => {
        const secret = options.secret ?? newListenSecret()
        const stop = new AbortController()
        const interrupt = () => stop.abort()
        process.once('SIGINT', interrupt)
        process.once('SIGTERM', interrupt)
        io.err(
          `Ready. Forwarding events to ${options.forwardTo}; signed with ${secret} (verify with standardwebhooks). Ctrl-C stops.`,
        )
        let forwarded = 0
        try {
          for await (const event of followEvents(client('tenant'), {
            since: options.since ? new Date(options.since) : undefined,
            types: options.type,
            intervalMs: options.interval,
            signal: stop.signal,
          })) {
            const result = await forwardEvent(event, options.forwardTo, secret)
            const outcome =
              result.status === undefined
                ? `failed: ${result.error}`
                : `${result.status} (${result.durationMs} ms)`
            print(
              { event: { id: event.id, type: event.type, subject: event.subject }, ...result },
              () =>
                `${event.timestamp}  ${event.type}  ${event.subject}  ${event.id}  → ${outcome}`,
            )
            forwarded += 1
            if (options.maxEvents !== undefined && forwarded >= options.maxEvents) stop.abort()
          }
        } finally {
          process.off('SIGINT', interrupt)
          process.off('SIGTERM', interrupt)
        }
      },
    )
}
