import { type Command, Option } from 'commander'
import { type CommandContext, fields, SCOPES, table, UsageError, unwrap } from './cli-kit.ts'
import { GatewayProblemError } from './index.ts'

/** `keys`: API keys, their rotation and their endpoints (the admin key). */
export function addKeyCommands(program: Command, { client, print }: CommandContext): void {
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
}
