import type { Command } from 'commander'
import { type CommandContext, fields, unwrap } from './cli-kit.ts'

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

/** `tenants` and `domains`: what a tenant may act on, and who manages a domain (the admin key). */
export function addScopeCommands(program: Command, { client, print }: CommandContext): void {
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
}
