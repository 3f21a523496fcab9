import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  createGatewayClient,
  verifyWebhook,
  WebhookVerificationError,
  waitForTask,
} from '@domain-gateway/client'
import { type ServerType, serve } from '@hono/node-server'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../clients/typescript/src/cli.ts'
import { spawnCollecting } from './helpers/child-output.ts'
import { freePort } from './helpers/free-port.ts'
import { ADMIN_KEY } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { TestReceiver } from './helpers/receiver.ts'
import { RecordedZone } from './helpers/recorded-zone.ts'
import { SAFETY_SCENARIOS, SAFETY_ZONE } from './helpers/safety-zones.ts'
import type { ZoneKey } from './helpers/test-zone.ts'

/**
 * The typed client (clients/typescript) and the `domain-gateway` CLI, run against the gateway over
 * real HTTP: the client in-process, the CLI and the README example as child processes, as a user
 * would run them.
 */
// RFC 6605's example KSK; its DS (key tag 55648) is the one the gateway computes.
const DNSKEY =
  '257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA=='
const BIN = resolve('node_modules/.bin/domain-gateway')

let p: Pipeline
let server: ServerType
let baseUrl = ''
/** A signed zone (BIND's recorded answers), for the DS commands: its KSK, ZSK and an unpublished KSK. */
let zone: RecordedZone
let zoneKeys: ZoneKey[]

beforeAll(async () => {
  zone = new RecordedZone(SAFETY_ZONE, await freePort())
  zoneKeys = SAFETY_SCENARIOS[SAFETY_ZONE].keys.map((ksk) => zone.newKey(ksk))
  zone.sign([zoneKeys[0], zoneKeys[1]] as ZoneKey[], [zoneKeys[0] as ZoneKey])
  await zone.serve()
  p = await startPipeline({
    env: { DNS_SERVER_OVERRIDES: JSON.stringify({ [SAFETY_ZONE]: [`127.0.0.1:${zone.port}`] }) },
  })
  server = serve({ fetch: p.app.fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((ready) => server.once('listening', ready))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((done) => server.close(done))
  await p.closeAll()
  await zone?.close()
})

/** Runs a command to its end, while pollers drain the pipeline beside it. */
async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const { child, stdout, stderr } = spawnCollecting(command, args, {
    ...process.env,
    DOMAIN_GATEWAY_URL: baseUrl,
    ...env,
  })
  let code: number | null | undefined
  const exited = new Promise<void>((done) =>
    child.on('exit', (exitCode) => {
      code = exitCode
      done()
    }),
  )
  await p.drainUntil(() => code !== undefined, { timeoutMs: 60_000 })
  await exited
  return { code, stdout: stdout(), stderr: stderr() }
}
/**
 * Runs the CLI's own entry (`main`, what the bin calls) in this process with the environment it
 * would see, while pollers drain the pipeline beside it: spawning a process per command cost most
 * of this file's time. The bin itself is run as a child process in the wait test below.
 */
async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  const saved = { ...process.env }
  for (const [name, value] of Object.entries({ DOMAIN_GATEWAY_URL: baseUrl, ...env })) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  let stdout = ''
  let stderr = ''
  let code: number | undefined
  const running = main(args, {
    out: (text) => {
      stdout += `${text}\n`
    },
    err: (text) => {
      stderr += `${text}\n`
    },
  }).then((exitCode) => {
    code = exitCode
  })
  try {
    await p.drainUntil(() => code !== undefined, { timeoutMs: 60_000 })
    await running
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
    Object.assign(process.env, saved)
    // The CLI reports its exit code through process.exitCode, as a process would: not this one's.
    process.exitCode = undefined
  }
  return { code, stdout, stderr }
}

describe('the typed client', () => {
  it('is generated from the document the gateway serves now (npm run client:generate)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'client-types-'))
    await writeFile(
      join(dir, 'openapi.json'),
      await (await fetch(`${baseUrl}/openapi.json`)).text(),
    )
    const generated = await run(resolve('node_modules/.bin/openapi-typescript'), [
      join(dir, 'openapi.json'),
      '--output',
      join(dir, 'schema.d.ts'),
      '--default-non-nullable',
      'false',
    ])
    expect(generated.code).toBe(0)
    expect(await readFile(join(dir, 'schema.d.ts'), 'utf8')).toBe(
      await readFile('clients/typescript/src/schema.d.ts', 'utf8'),
    )
    await rm(dir, { recursive: true })
    // A generator run in a child process: on a busy machine its start alone can take seconds.
  }, 60_000)

  it('submits, reads typed data and typed problems, waits for the task and verifies its webhook', async () => {
    const gateway = createGatewayClient({ baseUrl, apiKey: p.tenant.key })
    const {
      data: task,
      error,
      response,
    } = await gateway.POST('/domains/{name}/ds', {
      params: { path: { name: 'client-example.com' }, header: { 'Idempotency-Key': 'client-1' } },
      body: { dnskey: DNSKEY },
    })
    expect(error).toBeUndefined()
    expect(response.status).toBe(202)
    expect(task?.action).toBe('ds.add')
    expect(response.headers.get('x-request-id')).toBeTruthy()

    const bad = await gateway.POST('/domains/{name}/ds', {
      params: { path: { name: 'client-example.com' } },
      body: { keyTag: 1, algorithm: 13, digestType: 2, digest: 'abc' },
    })
    expect(bad.data).toBeUndefined()
    expect(bad.error).toMatchObject({ status: 422, type: '/docs#problem-invalid-request' })

    const waiting = waitForTask(gateway, task?.id ?? '', { intervalMs: 50, timeoutMs: 30_000 })
    let finished: Awaited<typeof waiting> | undefined
    void waiting.then((value) => {
      finished = value
    })
    await p.drainUntil(
      () => finished !== undefined && p.receiver.received.some((r) => r.id === `msg_${task?.id}`),
    )
    expect(finished?.status).toBe('succeeded')

    const delivery = p.receiver.received.find((r) => r.id === `msg_${task?.id}`)
    const headers = delivery?.headers as Record<string, string>
    const event = verifyWebhook(p.tenant.webhookSecret, delivery?.body ?? '', headers)
    expect(event.type).toBe('task.succeeded')
    if (event.type === 'task.succeeded') expect(event.data.id).toBe(task?.id)
    expect(() => verifyWebhook(p.tenant.webhookSecret, `${delivery?.body} `, headers)).toThrow(
      WebhookVerificationError,
    )
  })

  it('runs the README example to a succeeded task', async () => {
    const result = await run(
      resolve('node_modules/.bin/tsx'),
      ['clients/typescript/examples/add-ds-record.ts'],
      {
        DOMAIN_GATEWAY_URL: baseUrl,
        DOMAIN_GATEWAY_KEY: p.tenant.key,
        DOMAIN: 'example-run.com',
        DNSKEY,
      },
    )
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(/^accepted tsk_\w+ \(pending\)\ntsk_\w+ succeeded\n$/)
    expect(result.code).toBe(0)
    // Without its inputs it says which are missing, with no stack trace.
    const bare = await run(
      resolve('node_modules/.bin/tsx'),
      ['clients/typescript/examples/add-ds-record.ts'],
      { DOMAIN_GATEWAY_URL: baseUrl, DOMAIN_GATEWAY_KEY: '', DOMAIN: '', DNSKEY: '' },
    )
    expect(bare.stderr).toBe(
      "set DOMAIN_GATEWAY_KEY, DOMAIN, DNSKEY (npm start prints the export line for the gateway's)\n",
    )
    expect(bare.code).toBe(2)
  })
})

describe('the domain-gateway CLI', () => {
  it('creates, lists, rotates and revokes keys with the admin key (--json), and a rotated key works', async () => {
    const created = await cli([
      '--admin-key',
      ADMIN_KEY,
      '--json',
      'keys',
      'create',
      '--tenant',
      'cli-tenant',
      '--scope',
      'ds:write',
      'tasks:read',
      '--callback-url',
      p.receiver.url,
    ])
    expect(created.code).toBe(0)
    const key = JSON.parse(created.stdout) as { id: string; key: string; webhookSecret: string }
    expect(key.key).toMatch(/^dgw_/)
    expect(key.webhookSecret).toMatch(/^whsec_/)

    const listed = await cli(['keys', 'list'], { DOMAIN_GATEWAY_ADMIN_KEY: ADMIN_KEY })
    expect(listed.code).toBe(0)
    expect(listed.stdout.split('\n')[0]).toMatch(/^id\s+tenant\s+scopes/)
    expect(listed.stdout).toContain(key.id)

    const rotated = await cli(['--json', 'keys', 'rotate', key.id, '--revoke-old'], {
      DOMAIN_GATEWAY_ADMIN_KEY: ADMIN_KEY,
    })
    expect(rotated.code).toBe(0)
    const next = JSON.parse(rotated.stdout) as { key: string; tenant: string; replaces: string }
    expect(next).toMatchObject({ tenant: 'cli-tenant', replaces: key.id, oldRevoked: true })
    expect((await p.request('/tasks', { key: key.key })).status).toBe(401)
    expect((await p.request('/tasks', { key: next.key })).status).toBe(200)

    const secret = await cli(['keys', 'rotate-secret', key.id, '--grace-seconds', '60'], {
      DOMAIN_GATEWAY_ADMIN_KEY: ADMIN_KEY,
    })
    expect(secret.code).toBe(0)
  })

  it('sets and shows a tenant scope with the admin key; outside it a domain is 404 for the tenant', async () => {
    const admin = { DOMAIN_GATEWAY_ADMIN_KEY: ADMIN_KEY }
    const set = await cli(
      ['--json', 'tenants', 'set', 'cli-scoped', '--domain', 'cli-mine.com', '*.cli-team.com'],
      admin,
    )
    expect(set.code).toBe(0)
    expect(JSON.parse(set.stdout)).toMatchObject({
      tenant: 'cli-scoped',
      domains: ['cli-mine.com', '*.cli-team.com'],
      instances: [],
    })
    const shown = await cli(['tenants', 'show', 'cli-scoped'], admin)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('*.cli-team.com')
    const key = await p.newKey('cli-scoped', ['sync:write', 'tasks:read'])
    const sync = (domain: string) =>
      p.request(`/domains/${domain}/ds/sync`, { method: 'POST', key: key.key })
    expect((await sync('x.cli-team.com')).status).toBe(202)
    expect((await sync('cli-elsewhere.com')).status).toBe(404)
  })

  it("sets a tenant's own limits, assigns and shares a domain, shows and unassigns it", async () => {
    const admin = { DOMAIN_GATEWAY_ADMIN_KEY: ADMIN_KEY }
    const limited = await cli(
      [
        '--json',
        'tenants',
        'set',
        'cli-limited',
        '--domain',
        '*',
        '--limit',
        'writes=7',
        'reads=0',
      ],
      admin,
    )
    expect(limited.code).toBe(0)
    expect(JSON.parse(limited.stdout).limits).toEqual({ writes: 7, reads: 0 })
    const wrong = await cli(['tenants', 'set', 'cli-limited', '--limit', 'writes=many'], admin)
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('--limit writes=many')

    const assigned = await cli(
      [
        '--json',
        'domains',
        'assign',
        'cli-owned.com',
        '--manager',
        'cli-limited',
        '--share',
        'alpha',
      ],
      admin,
    )
    expect(assigned.code).toBe(0)
    expect(JSON.parse(assigned.stdout)).toMatchObject({
      domain: 'cli-owned.com',
      manager: 'cli-limited',
      sharedWith: ['alpha'],
      assignedBy: 'admin',
    })
    const shown = await cli(['domains', 'show', 'cli-owned.com'], admin)
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain('cli-limited')
    expect((await cli(['domains', 'unassign', 'cli-owned.com'], admin)).code).toBe(0)
    const gone = await cli(['domains', 'show', 'cli-owned.com'], admin)
    expect(gone.code).not.toBe(0)
    expect(gone.stderr).toContain('404')
  })

  it('suggests, adds and deletes DS records; an unsafe one is refused with the reason, --force carries it out', async () => {
    const env = { DOMAIN_GATEWAY_KEY: p.tenant.key }
    const ksk = zone.dsOf(zoneKeys[0] as ZoneKey)
    const stray = zone.dsOf(zoneKeys[2] as ZoneKey)
    const suggested = await cli(['ds', 'suggest', SAFETY_ZONE], env)
    expect(suggested.code).toBe(0)
    expect(suggested.stdout).toContain("from the zone's cds")
    expect(suggested.stdout).toContain(ksk.digest)
    const asFlags = (ds: typeof ksk) => [
      '--key-tag',
      String(ds.keyTag),
      '--algorithm',
      String(ds.algorithm),
      '--digest-type',
      String(ds.digestType),
      '--digest',
      ds.digest,
    ]
    const refused = await cli(['ds', 'add', SAFETY_ZONE, ...asFlags(stray)], env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('409')
    expect(refused.stderr).toMatch(/validates the DNSKEY RRset of no key/)
    expect(refused.stderr).toContain('force')
    const forced = await cli(
      ['--json', 'ds', 'add', SAFETY_ZONE, ...asFlags(stray), '--force'],
      env,
    )
    expect(forced.code).toBe(0)
    const task = JSON.parse(forced.stdout) as {
      id: string
      safety: { verdict: string; forced: boolean }
    }
    expect(task.safety).toMatchObject({ verdict: 'unsafe', forced: true })
    await p.settle([task.id])
    const listed = await cli(['ds', 'list', SAFETY_ZONE], env)
    expect(listed.stdout).toContain(String(stray.keyTag))
    const removed = await cli(['--json', 'ds', 'delete', SAFETY_ZONE, String(stray.keyTag)], env)
    expect(removed.code).toBe(0)
    expect(JSON.parse(removed.stdout)).toMatchObject({ safety: { verdict: 'insecure' } })
    expect((await cli(['ds', 'add', SAFETY_ZONE, '--key-tag', '1'], env)).code).toBe(2)
  })

  it('lists and shows tasks, sends a test event, and says what went wrong with its exit code', async () => {
    const submitted = await p.submit('/domains/cli-tasks.com/ds', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dnskey: DNSKEY }),
    })
    expect(submitted.status).toBe(202)
    const env = { DOMAIN_GATEWAY_KEY: p.tenant.key }
    const listed = await cli(['tasks', 'list', '--domain', 'cli-tasks.com'], env)
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain(submitted.id)
    expect(listed.stdout).toContain('ds.add')

    const shown = await cli(['--json', 'tasks', 'show', submitted.id], env)
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: submitted.id, action: 'ds.add' })

    const ping = await cli(['--json', 'webhooks', 'test'], env)
    expect(ping.code).toBe(0)
    const attempt = JSON.parse(ping.stdout) as { webhookId: string; outcome: string }
    expect(attempt.outcome).toBe('delivered')
    const received = p.receiver.received.find((r) => r.id === attempt.webhookId)
    expect(p.receiver.verify(received as never, p.tenant.webhookSecret).type).toBe('ping')

    // 1: the gateway answered with a problem.
    const missing = await cli(['tasks', 'show', 'tsk_doesnotexist0000'], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('404')
    // A wait for a task that does not exist is a 404 too, not "unreachable".
    const waitMissing = await cli(['tasks', 'wait', 'tsk_doesnotexist0000'], env)
    expect(waitMissing.code).toBe(1)
    expect(waitMissing.stderr).toMatch(/^error: 404 /)
    // 2: bad usage (no key, a missing option, an unknown scope).
    expect((await cli(['tasks', 'list'])).code).toBe(2)
    const noScope = await cli(['keys', 'create', '--tenant', 'x'], {
      DOMAIN_GATEWAY_ADMIN_KEY: ADMIN_KEY,
    })
    expect(noScope.code).toBe(2)
    expect(noScope.stderr).toContain('--scope')
    // 3: the gateway cannot be reached.
    const down = await cli(['--url', 'http://127.0.0.1:9', 'tasks', 'list'], env)
    expect(down.code).toBe(3)
    expect(down.stderr).toContain('could not reach the gateway')
  })

  it('follows events with listen --forward-to, signed so the stock standardwebhooks verifies them', async () => {
    const env = { DOMAIN_GATEWAY_KEY: p.tenant.key }
    const since = new Date().toISOString()
    const types = ['task.failed', 'dnssec.rollover.completed', 'change.succeeded']
    const ids: string[] = []
    for (const type of types) {
      const sent = await cli(['--json', 'webhooks', 'test', '--event', type], env)
      expect(sent.code, sent.stderr).toBe(0)
      ids.push((JSON.parse(sent.stdout) as { webhookId: string }).webhookId)
    }
    const local = new TestReceiver()
    await local.start()
    try {
      const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
      const listened = await cli(
        [
          'listen',
          '--forward-to',
          local.url,
          '--secret',
          secret,
          '--since',
          since,
          '--max-events',
          '3',
          '--interval',
          '100',
        ],
        env,
      )
      expect(listened.code, listened.stderr).toBe(0)
      expect(listened.stderr).toContain(`Forwarding events to ${local.url}`)
      expect(local.received.map((request) => request.id)).toEqual(ids)
      for (const [index, request] of local.received.entries()) {
        // The stock library, with the listen secret, as a developer's receiver would.
        const event = new Webhook(secret).verify(request.body, {
          'webhook-id': String(request.headers['webhook-id']),
          'webhook-timestamp': String(request.headers['webhook-timestamp']),
          'webhook-signature': String(request.headers['webhook-signature']),
        }) as { type: string }
        expect(event.type).toBe(types[index])
      }
      // One line per event: type, id and what the local receiver answered.
      const lines = listened.stdout.trim().split('\n')
      expect(lines).toHaveLength(3)
      expect(lines[0]).toMatch(/task\.failed\s+tsk_sample\w*\s+msg_evt_\w+\s+→ 204/)
    } finally {
      await local.stop()
    }

    const listed = await cli(['events', 'list', '--since', since, '--type', 'task.failed'], env)
    expect(listed.code).toBe(0)
    expect(listed.stdout.split('\n')[0]).toMatch(/^id\s+type\s+subject\s+timestamp\s+delivery/)
    expect(listed.stdout).toContain(ids[0])
    expect(listed.stdout).not.toContain(ids[1])
    const shown = await cli(['--json', 'events', 'show', ids[1]!], env)
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: ids[1],
      type: 'dnssec.rollover.completed',
      test: true,
    })
    const resent = await cli(['events', 'resend', ids[1]!], env)
    expect(resent.code).toBe(0)
    expect(resent.stdout).toContain(`scheduled: ${ids[1]}`)
    await p.drainUntil(() => p.receiver.received.filter((r) => r.id === ids[1]).length === 2)
    const log = await cli(['events', 'deliveries', ids[1]!], env)
    expect(log.stdout.trim().split('\n')).toHaveLength(3)
    const missing = await cli(['events', 'show', 'msg_evt_doesnotexist000000'], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^error: 404 /)
    expect((await cli(['events', 'list', '--since', 'last tuesday'], env)).code).toBe(2)
  })

  it('lists, shows and waits for changes', async () => {
    const env = { DOMAIN_GATEWAY_KEY: p.tenant.key }
    const put = await p.request('/domains/cli-change.com/ds', {
      method: 'PUT',
      key: p.tenant.key,
      body: JSON.stringify({ records: [{ dnskey: DNSKEY }] }),
    })
    expect(put.status).toBe(202)
    const change = (await put.json()) as { id: string }
    const waited = await cli(['--json', 'changes', 'wait', change.id, '--timeout', '60'], env)
    expect(waited.code, waited.stderr).toBe(0)
    expect(JSON.parse(waited.stdout)).toMatchObject({
      id: change.id,
      status: 'succeeded',
      done: true,
    })
    const listed = await cli(['changes', 'list', '--domain', 'cli-change.com'], env)
    expect(listed.stdout).toMatch(new RegExp(`${change.id}\\s+cli-change\\.com\\s+ds\\s+succeeded`))
    const missing = await cli(['changes', 'wait', 'chg_doesnotexist00000'], env)
    expect(missing.code).toBe(1)
  })

  it('saves a checked profile with login and uses it with --profile; completes commands in bash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dgw-profile-'))
    const config = join(dir, 'config.json')
    // No URL or key in the environment: only flags, then the profile.
    const bare = { DOMAIN_GATEWAY_CONFIG: config, DOMAIN_GATEWAY_URL: undefined }
    try {
      const refused = await cli(
        ['--url', baseUrl, '--key', 'dgw_not_a_key', '--profile', 'dev', 'login'],
        bare,
      )
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/^error: 401 /)
      const saved = await cli(
        ['--url', baseUrl, '--key', p.tenant.key, '--profile', 'dev', 'login'],
        bare,
      )
      expect(saved.code, saved.stderr).toBe(0)
      expect(saved.stdout.trim()).toBe(`Saved profile dev (${baseUrl}) to ${config}`)
      expect((await stat(config)).mode & 0o777).toBe(0o600)
      expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({
        profiles: { dev: { url: baseUrl, key: p.tenant.key } },
      })
      const listed = await cli(['--profile', 'dev', 'events', 'list', '--limit', '1'], bare)
      expect(listed.code, listed.stderr).toBe(0)
      expect(listed.stdout).toMatch(/^id\s+type/)
      // Without the profile there is no key.
      expect((await cli(['events', 'list'], bare)).code).toBe(2)

      const script = await cli(['completion', 'bash'], bare)
      expect(script.code).toBe(0)
      await writeFile(join(dir, 'completion.sh'), script.stdout)
      const complete = (words: string) =>
        run('bash', [
          '-c',
          `source ${join(dir, 'completion.sh')}; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _domain_gateway; echo "\${COMPREPLY[*]}"`,
        ])
      expect((await complete('domain-gateway events re')).stdout.trim()).toBe('resend recover')
      expect((await complete('domain-gateway listen --for')).stdout.trim()).toBe('--forward-to')
      expect((await complete('domain-gateway --json cha')).stdout.trim()).toBe('changes')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('exits 4 when a wait runs out, with the task or change left as it was', async () => {
    const env = { ...process.env, DOMAIN_GATEWAY_URL: baseUrl, DOMAIN_GATEWAY_KEY: p.tenant.key }
    // No poller runs beside these: the task stays pending, the change running.
    const alone = async (args: string[]) => {
      const { child, stdout, stderr } = spawnCollecting(BIN, args, env)
      const code = await new Promise<number | null>((done) => child.on('exit', done))
      return { code, stdout: stdout(), stderr: stderr() }
    }
    const submitted = await p.submit('/domains/cli-wait.com/ds/sync')
    const task = await alone(['tasks', 'wait', submitted.id, '--timeout', '0'])
    expect(task.code).toBe(4)
    expect(task.stderr).toBe(
      `error: task ${submitted.id} is still pending (waited the --timeout)\n`,
    )
    const put = await p.request('/domains/cli-wait-change.com/ds', {
      method: 'PUT',
      key: p.tenant.key,
      body: JSON.stringify({ records: [{ dnskey: DNSKEY }] }),
    })
    const change = (await put.json()) as { id: string }
    const waited = await alone(['changes', 'wait', change.id, '--timeout', '0'])
    expect(waited.code).toBe(4)
    expect(waited.stderr).toContain(`change ${change.id} is still running`)
  })
})
