import { type Command, Option } from 'commander'
import { EVENT_TYPES, sinceOption } from './cli-events.ts'
import { type CommandContext, EXIT, fields, unwrap } from './cli-kit.ts'
import { followEvents, forwardEvent, newListenSecret } from './listen.ts'

/** `webhooks test` and `listen`: a test event sent now, and the tenant's events forwarded to a local URL. */
export function addWebhookCommands(program: Command, { io, client, print }: CommandContext): void {
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
