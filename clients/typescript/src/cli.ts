import { Argument, Command, CommanderError, Option } from 'commander'
import { bashCompletion } from './cli-completion.ts'
import { addDsCommands } from './cli-ds.ts'
import { addEventCommands } from './cli-events.ts'
import {
  type CliIo,
  collectPages,
  EXIT,
  fields,
  type GlobalOptions,
  SCOPES,
  table,
  UsageError,
  unwrap,
} from './cli-kit.ts'
import { configPath, DEFAULT_URL, readProfile, saveProfile } from './cli-profile.ts'
import {
  createGatewayClient,
  type GatewayClient,
  GatewayProblemError,
  WaitTimeoutError,
  waitForTask,
} from './index.ts'

export { EXIT }

const LIMIT_KINDS = ['writes', 'upstreamReads', 'reads', 'redeliveries'] as const

/** `--limit writes=120 reads=0` as the admin API's `limits`, or undefined when none is given. */
function parseLimits(
  given: readonly string[],
): Partial<Record<(typeof LIMIT_KINDS)[number], number>> | undefined {
  if (given.length === 0) return undefined
  const limits: Partial<Record<(typeof LIMIT_KINDS)[number], number>> = {}
  for (const entry of given) {
    const match = /^(\w+)=(\d+)$/.exec(entry)
    const kind = match?.[1] as (typeof LIMIT_KINDS)[number] | undefined
    if (!match || !kind || !LIMIT_KINDS.includes(kind)) {
      throw new Error(
        `--limit ${entry}: expected <kind>=<per minute>, kind one of ${LIMIT_KINDS.join(', ')}`,
      )
    }
    limits[kind] = Number(match[2])
  }
  return limits
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('domain-gateway')
    .description(
      'Administer and operate a domain-gateway: API keys, tasks, webhook deliveries and test events.',
    )
    .addOption(
      new Option(
        '--url <url>',
        `the gateway origin (default: the profile's, else ${DEFAULT_URL})`,
      ).env('DOMAIN_GATEWAY_URL'),
    )
    .addOption(
      new Option('--profile <name>', 'a profile saved by `login` (flags and variables win over it)')
        .env('DOMAIN_GATEWAY_PROFILE')
        .default('default'),
    )
    .addOption(new Option('--key <key>', 'a tenant API key (dgw_…)').env('DOMAIN_GATEWAY_KEY'))
    .addOption(
      new Option('--admin-key <key>', 'the ADMIN_API_KEY, for `keys`').env(
        'DOMAIN_GATEWAY_ADMIN_KEY',
      ),
    )
    .option('--json', 'print JSON (the data, or the problem) instead of text')
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 the gateway answered with a problem (a 404 too), 2 bad usage, 3 unreachable, 4 a wait timed out.',
    )
    .showHelpAfterError()
    // Set before the subcommands are added: they inherit these settings when created.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      writeErr: (text) => io.err(text.trimEnd()),
    })

  // The chosen profile, read before any command runs, fills what flags and variables left out.
  program.hook('preAction', async () => {
    const given = program.opts<GlobalOptions>()
    const profile = await readProfile(given.profile)
    const fill = {
      url: profile?.url ?? DEFAULT_URL,
      key: profile?.key,
      adminKey: profile?.adminKey,
    }
    for (const [name, value] of Object.entries(fill)) {
      if (given[name as keyof typeof fill] === undefined && value !== undefined) {
        program.setOptionValueWithSource(name, value, 'config')
      }
    }
  })
  const globals = () => program.opts<GlobalOptions>() as GlobalOptions & { url: string }
  const print = (data: unknown, text: () => string) =>
    io.out(globals().json ? JSON.stringify(data, null, 2) : text())
  const client = (which: 'tenant' | 'admin'): GatewayClient => {
    const { url, key, adminKey } = globals()
    const apiKey = which === 'admin' ? adminKey : key
    if (!apiKey) {
      throw new UsageError(
        which === 'admin'
          ? 'this command needs the admin key: --admin-key or DOMAIN_GATEWAY_ADMIN_KEY'
          : 'this command needs an API key: --key or DOMAIN_GATEWAY_KEY',
      )
    }
    return createGatewayClient({ baseUrl: url, apiKey })
  }

  const keys = program.command('keys').description('API keys (needs the admin key)')
  keys
    .command('create')
    .description('create an API key and its webhook secret (both shown once)')
    .requiredOption('--tenant <tenant>', 'the tenant the key acts for')
    .addOption(
      new Option('--scope <scope...>', 'what the key may do').choices(SCOPES).makeOptionMandatory(),
    )
    .option('--callback-url <url>', 'where its webhooks go by default')
    .action(
      async (options: {
        tenant: string
        scope: (typeof SCOPES)[number][]
        callbackUrl?: string
      }) => {
        const created = unwrap(
          await client('admin').POST('/admin/keys', {
            body: {
              tenant: options.tenant,
              scopes: options.scope,
              callbackUrl: options.callbackUrl,
            },
          }),
        )
        print(
          created,
          () =>
            `${fields(created)}\n\nStore the key and the webhook secret now: they are not shown again.`,
        )
      },
    )
  keys
    .command('list')
    .description('list the API keys')
    .action(async () => {
      const { items } = unwrap(await client('admin').GET('/admin/keys'))
      print(items, () =>
        table(items, ['id', 'tenant', 'scopes', 'callbackUrl', 'createdAt', 'revokedAt']),
      )
    })
  keys
    .command('revoke <id>')
    .description('revoke an API key (it stops working at once)')
    .action(async (id: string) => {
      unwrap(await client('admin').DELETE('/admin/keys/{id}', { params: { path: { id } } }))
      print({ id, revoked: true }, () => `revoked ${id}`)
    })
  keys
    .command('rotate <id>')
    .description(
      'issue a new key with the same tenant, scopes and callback URL; --revoke-old revokes the old one',
    )
    .option('--revoke-old', 'revoke the old key once the new one exists')
    .action(async (id: string, options: { revokeOld?: boolean }) => {
      const admin = client('admin')
      const { items } = unwrap(await admin.GET('/admin/keys'))
      const old = items.find((item) => item.id === id)
      if (!old)
        throw new GatewayProblemError({
          type: 'about:blank',
          title: 'Not found',
          status: 404,
          detail: `No API key ${id}.`,
        })
      if (old.revokedAt) throw new UsageError(`${id} is revoked; create a new key instead`)
      const created = unwrap(
        await admin.POST('/admin/keys', {
          body: { tenant: old.tenant, scopes: old.scopes, callbackUrl: old.callbackUrl },
        }),
      )
      if (options.revokeOld) {
        unwrap(await admin.DELETE('/admin/keys/{id}', { params: { path: { id } } }))
      }
      const result = { replaces: id, oldRevoked: Boolean(options.revokeOld), ...created }
      print(
        result,
        () =>
          `${fields(result)}\n\nThe new key has its own webhook secret: receivers should accept both until the old key's tasks are done.`,
      )
    })
  keys
    .command('rotate-secret <id>')
    .description("rotate a key's webhook secret; the old one keeps signing for the grace period")
    .option('--grace-seconds <seconds>', 'how long the old secret keeps signing', (value) => {
      const seconds = Number(value)
      if (!Number.isInteger(seconds) || seconds < 0)
        throw new UsageError('--grace-seconds takes a whole number')
      return seconds
    })
    .action(async (id: string, options: { graceSeconds?: number }) => {
      const rotated = unwrap(
        await client('admin').POST('/admin/keys/{id}/webhook-secret/rotate', {
          params: { path: { id } },
          body: options.graceSeconds === undefined ? {} : { graceSeconds: options.graceSeconds },
        }),
      )
      print(rotated, () => fields(rotated as Record<string, unknown>))
    })
  keys
    .command('endpoints <id>')
    .description("a key's callback endpoints and their health")
    .action(async (id: string) => {
      const { items } = unwrap(
        await client('admin').GET('/admin/keys/{id}/endpoints', { params: { path: { id } } }),
      )
      print(items, () =>
        table(items, [
          'endpoint',
          'failures',
          'failingSince',
          'backoffUntil',
          'disabledAt',
          'lastError',
        ]),
      )
    })
  keys
    .command('enable-endpoints <id>')
    .description("re-enable a key's disabled endpoints and send again what they missed")
    .action(async (id: string) => {
      const result = unwrap(
        await client('admin').POST('/admin/keys/{id}/endpoints/enable', {
          params: { path: { id } },
        }),
      )
      print(result, () => fields(result))
    })

  const tenants = program
    .command('tenants')
    .description('what each tenant’s keys may act on (needs the admin key)')
  tenants
    .command('set <tenant>')
    .description(
      'set the domains (exact, *.suffix or *) and DNS-host instances (id or *) a tenant may act on',
    )
    .option('--domain <pattern...>', 'a domain, *.example.com, or *', [])
    .option('--instance <id...>', 'a DNS-host instance id, or *', [])
    .option(
      '--limit <kind=perMinute...>',
      'the tenant’s own requests per minute: writes, upstreamReads, reads or redeliveries (0: unlimited)',
      [],
    )
    .action(
      async (
        tenant: string,
        options: { domain: string[]; instance: string[]; limit: string[] },
      ) => {
        const limits = parseLimits(options.limit)
        const scope = unwrap(
          await client('admin').PUT('/admin/tenants/{tenant}', {
            params: { path: { tenant } },
            body: {
              domains: options.domain,
              instances: options.instance,
              ...(limits ? { limits } : {}),
            },
          }),
        )
        print(scope, () => fields(scope))
      },
    )
  tenants
    .command('show <tenant>')
    .description('a tenant’s scope (none set: everything, or nothing under TENANT_SCOPES=strict)')
    .action(async (tenant: string) => {
      const scope = unwrap(
        await client('admin').GET('/admin/tenants/{tenant}', { params: { path: { tenant } } }),
      )
      print(scope, () => fields(scope))
    })

  const domains = program
    .command('domains')
    .description('who manages each domain, and who it is shared with (needs the admin key)')
  domains
    .command('assign <domain>')
    .description(
      'make a tenant the manager of a domain (its desired state and DNSSEC), and share it with others (they may submit changes)',
    )
    .requiredOption('--manager <tenant>', 'the managing tenant')
    .option('--share <tenant...>', 'tenants that may also submit changes and read its state', [])
    .action(async (domain: string, options: { manager: string; share: string[] }) => {
      const assignment = unwrap(
        await client('admin').PUT('/admin/domains/{name}', {
          params: { path: { name: domain } },
          body: { manager: options.manager, sharedWith: options.share },
        }),
      )
      print(assignment, () => fields(assignment))
    })
  domains
    .command('show <domain>')
    .description('who manages a domain (404: nobody yet)')
    .action(async (domain: string) => {
      const assignment = unwrap(
        await client('admin').GET('/admin/domains/{name}', { params: { path: { name: domain } } }),
      )
      print(assignment, () => fields(assignment))
    })
  domains
    .command('unassign <domain>')
    .description('remove the assignment (under TENANT_SCOPES=strict nobody manages it then)')
    .action(async (domain: string) => {
      unwrap(
        await client('admin').DELETE('/admin/domains/{name}', {
          params: { path: { name: domain } },
        }),
      )
      print({ domain, unassigned: true }, () => `${domain} unassigned`)
    })

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

  addEventCommands(program, { io, client, print })
  addDsCommands(program, { io, client, print })

  program
    .command('login')
    .description(
      'check --url and --key (and --admin-key) against the gateway and save them as a profile (--profile)',
    )
    .action(async () => {
      const { url, key, adminKey, profile: name } = globals()
      if (!key && !adminKey) throw new UsageError('login needs --key or --admin-key to save')
      if (key) {
        // Valid whatever its scopes: 200, or 403 for a key without tasks:read; 401 is refused.
        const { response, error } = await client('tenant').GET('/tasks', {
          params: { query: { limit: 1 } },
        })
        if (response.status !== 200 && response.status !== 403) unwrap({ error, response })
      }
      if (adminKey) unwrap(await client('admin').GET('/admin/keys'))
      const path = configPath()
      await saveProfile(name, { url, key, adminKey }, path)
      print({ profile: name, url, path }, () => `Saved profile ${name} (${url}) to ${path}`)
    })

  program
    .command('completion')
    .description('print a shell completion script: eval "$(domain-gateway completion bash)"')
    .addArgument(new Argument('<shell>').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => io.out(bashCompletion(program, shell)))

  return program
}

/** Runs the CLI; resolves to its exit code (never exits the process itself). */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io)
  process.exitCode = undefined
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}`)
      return EXIT.usage
    }
    if (error instanceof GatewayProblemError) {
      const { problem } = error
      if (program.opts<GlobalOptions>().json) io.out(JSON.stringify(problem, null, 2))
      io.err(
        `error: ${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`,
      )
      for (const issue of problem.errors ?? []) io.err(`  ${issue.path}: ${issue.message}`)
      return EXIT.problem
    }
    if (error instanceof WaitTimeoutError) {
      io.err(`error: ${error.message} (waited the --timeout)`)
      return EXIT.timeout
    }
    const cause = (error as { cause?: { code?: string } }).cause
    io.err(
      `error: could not reach the gateway at ${program.opts<GlobalOptions>().url}: ${cause?.code ?? (error as Error).message}`,
    )
    return EXIT.unreachable
  }
}
