import type { Command } from 'commander'
import { type CommandContext, fields, table, UsageError, unwrap } from './cli-kit.ts'

/** `ds`: a domain's DS records at the registry, what its zone asks for, adding and deleting one. */
export function addDsCommands(program: Command, { client, print }: CommandContext): void {
  const ds = program.command('ds').description('DS records of a domain (needs --key)')
  ds.command('list <domain>')
    .description('the DS records the registry holds now')
    .action(async (domain: string) => {
      const answer = unwrap(
        await client('tenant').GET('/domains/{name}/ds', { params: { path: { name: domain } } }),
      )
      print(answer, () => table(answer.records, ['keyTag', 'algorithm', 'digestType', 'digest']))
    })
  ds.command('suggest <domain>')
    .description('the DS records the zone asks for: its CDS, its CDNSKEY or its key-signing keys')
    .action(async (domain: string) => {
      const answer = unwrap(
        await client('tenant').GET('/domains/{name}/ds/suggested', {
          params: { path: { name: domain } },
        }),
      )
      print(answer, () =>
        answer.records.length === 0
          ? `nothing to suggest for ${domain}: ${answer.reason ?? 'no key'}`
          : `from the zone's ${answer.source} (${answer.servers.join(', ')}):\n${table(answer.records, ['keyTag', 'algorithm', 'digestType', 'digest'])}`,
      )
    })
  ds.command('add <domain>')
    .description(
      'add a DS record, given as --dnskey or as --key-tag/--algorithm/--digest-type/--digest; refused (409) when it would validate nothing the zone serves, unless --force',
    )
    .option('--dnskey <rdata>', "the key-signing key's DNSKEY RDATA (the gateway computes the DS)")
    .option('--key-tag <n>', 'the DS record’s key tag', (value) => Number(value))
    .option('--algorithm <n>', 'its algorithm', (value) => Number(value))
    .option(
      '--digest-type <n>',
      'its digest type (with --dnskey: the digest to compute)',
      (value) => Number(value),
    )
    .option('--digest <hex>', 'its digest')
    .option('--force', 'carry it out even when the pre-flight check finds it unsafe (recorded)')
    .option('--idempotency-key <key>', 'the same key on a retry returns the first answer')
    .action(
      async (
        domain: string,
        options: {
          dnskey?: string
          keyTag?: number
          algorithm?: number
          digestType?: number
          digest?: string
          force?: boolean
          idempotencyKey?: string
        },
      ) => {
        const force = options.force ? { force: true } : {}
        let body: Record<string, unknown>
        if (options.dnskey !== undefined) {
          body = {
            dnskey: options.dnskey,
            ...(options.digestType === undefined ? {} : { digestType: options.digestType }),
            ...force,
          }
        } else if (
          options.keyTag === undefined ||
          options.algorithm === undefined ||
          options.digestType === undefined ||
          options.digest === undefined
        ) {
          throw new UsageError(
            'give --dnskey, or all of --key-tag, --algorithm, --digest-type and --digest',
          )
        } else {
          const { keyTag, algorithm, digestType, digest } = options
          body = { keyTag, algorithm, digestType, digest, ...force }
        }
        const task = unwrap(
          await client('tenant').POST('/domains/{name}/ds', {
            params: {
              path: { name: domain },
              header: options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {},
            },
            body: body as never,
          }),
        )
        print(task, () => fields(task as Record<string, unknown>))
      },
    )
  ds.command('delete <domain> <keyTag>')
    .description(
      'delete the DS records with this key tag; refused (409) when the DS left would validate nothing the zone serves, unless --force',
    )
    .option('--force', 'carry it out even when the pre-flight check finds it unsafe (recorded)')
    .option('--idempotency-key <key>', 'the same key on a retry returns the first answer')
    .action(
      async (
        domain: string,
        keyTag: string,
        options: { force?: boolean; idempotencyKey?: string },
      ) => {
        if (!/^\d{1,5}$/.test(keyTag) || Number(keyTag) > 65_535) {
          throw new UsageError(`the key tag must be 0 to 65535, not ${keyTag}`)
        }
        const task = unwrap(
          await client('tenant').DELETE('/domains/{name}/ds/{keyTag}', {
            params: {
              path: { name: domain, keyTag: Number(keyTag) },
              query: options.force ? { force: 'true' } : {},
              header: options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {},
            },
          }),
        )
        print(task, () => fields(task as Record<string, unknown>))
      },
    )
}
