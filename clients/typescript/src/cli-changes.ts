import { type Command, Option } from 'commander'
import { type CommandContext, EXIT, fields, table, unwrap } from './cli-kit.ts'
import { waitForChange } from './index.ts'

/** `changes`: the key's tenant's desired-state changes, and waiting for one. */
export function addChangeCommands(program: Command, { client, print }: CommandContext): void {
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
}
