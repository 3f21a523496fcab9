import type { Command } from 'commander'
import { type CommandContext, collectPages, EXIT, fields, table, unwrap } from './cli-kit.ts'
import { waitForTask } from './index.ts'

/** `tasks`: the key's tenant's tasks, waiting for one, its deliveries. */
export function addTaskCommands(program: Command, { client, print }: CommandContext): void {
  const tasks = program.command('tasks').description('tasks of the key’s tenant (needs --key)')
  tasks
    .command('list')
    .description('list tasks, newest first')
    .option('--status <status>', 'only tasks with this status')
    .option('--action <action>', 'only tasks of this action (ds.add, dns.batch, …)')
    .option('--domain <domain>', 'only tasks for this domain')
    .option('--limit <n>', 'how many (1-100 per page)', (value) => Number(value), 20)
    .option('--all', 'follow the pages to the end')
    .action(
      async (options: {
        status?: string
        action?: string
        domain?: string
        limit: number
        all?: boolean
      }) => {
        const tenant = client('tenant')
        const items: Record<string, unknown>[] = await collectPages(options.all, async (cursor) =>
          unwrap(
            await tenant.GET('/tasks', {
              params: {
                query: {
                  status: options.status as never,
                  action: options.action as never,
                  domain: options.domain,
                  limit: options.limit,
                  cursor,
                },
              },
            }),
          ),
        )
        print(items, () =>
          table(
            items.map((task) => ({
              ...task,
              target: (task.domains as string[] | undefined)?.join(',') ?? task.instanceId,
              callback: (task.callback as { state: string }).state,
            })),
            ['id', 'action', 'status', 'target', 'callback', 'createdAt'],
          ),
        )
      },
    )
  tasks
    .command('show <id>')
    .description('one task in full')
    .action(async (id: string) => {
      const task = unwrap(await client('tenant').GET('/tasks/{id}', { params: { path: { id } } }))
      print(task, () => fields(task as Record<string, unknown>))
    })
  tasks
    .command('wait <id>')
    .description('wait until a task is final, then show it (exit 1 unless it succeeded)')
    .option('--timeout <seconds>', 'give up after', (value) => Number(value), 300)
    .action(async (id: string, options: { timeout: number }) => {
      const task = await waitForTask(client('tenant'), id, {
        timeoutMs: options.timeout * 1000,
        intervalMs: 1_000,
      })
      print(task, () => fields(task as Record<string, unknown>))
      if (task.status !== 'succeeded') process.exitCode = EXIT.problem
    })
  tasks
    .command('deliveries <id>')
    .description("a task's webhook delivery attempts")
    .action(async (id: string) => {
      const log = unwrap(
        await client('tenant').GET('/tasks/{id}/deliveries', { params: { path: { id } } }),
      )
      const items = log.attempts
      print(log, () =>
        table(items, ['attempt', 'at', 'outcome', 'statusCode', 'durationMs', 'error']),
      )
    })
  tasks
    .command('redeliver <id>')
    .description("send a finished task's webhook again (same webhook-id)")
    .action(async (id: string) => {
      const task = unwrap(
        await client('tenant').POST('/tasks/{id}/deliveries/redeliver', {
          params: { path: { id } },
        }),
      )
      print(task, () => `scheduled: ${task.id} (callback ${task.callback.state})`)
    })
}
