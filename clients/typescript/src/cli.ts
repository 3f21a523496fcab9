import { Argument, Command, CommanderError, Option } from 'commander'
import { addChangeCommands } from './cli-changes.ts'
import { bashCompletion } from './cli-completion.ts'
import { addDsCommands } from './cli-ds.ts'
import { addEventCommands } from './cli-events.ts'
import { addKeyCommands } from './cli-keys.ts'
import { type CliIo, EXIT, type GlobalOptions, UsageError, unwrap } from './cli-kit.ts'
import { configPath, DEFAULT_URL, readProfile, saveProfile } from './cli-profile.ts'
import { addScopeCommands } from './cli-scopes.ts'
import { addTaskCommands } from './cli-tasks.ts'
import { addWebhookCommands } from './cli-webhooks.ts'
import {
  createGatewayClient,
  type GatewayClient,
  GatewayProblemError,
  WaitTimeoutError,
} from './index.ts'

export { EXIT }

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

  const context = { io, client, print }
  addKeyCommands(program, context)
  addScopeCommands(program, context)
  addTaskCommands(program, context)
  addEventCommands(program, context)
  addChangeCommands(program, context)
  addWebhookCommands(program, context)
  addDsCommands(program, context)

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
