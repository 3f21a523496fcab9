import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { describeCallback } from '#infra/local/callback-receiver.ts'
import { spawnCollecting } from './helpers/child-output.ts'

/**
 * `npm start` as a user meets it: its banner, a busy default port, a busy port the user chose.
 * The entry point runs as a child process, exactly as the npm script runs it.
 */
const children: ChildProcess[] = []
const blockers: Server[] = []
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGTERM')
  for (const server of blockers.splice(0)) await new Promise((done) => server.close(done))
})

/** Holds a port as another program would; resolves to it. */
async function occupy(port = 0): Promise<number> {
  const server = createServer()
  await new Promise<void>((done, fail) => {
    server.once('error', fail)
    server.listen(port, '127.0.0.1', () => done())
  })
  blockers.push(server)
  return (server.address() as { port: number }).port
}

/** Starts the local stack; resolves with its output once the banner is out or it has exited. */
function start(env: Record<string, string>) {
  const { child, stdout, stderr } = spawnCollecting(
    resolve('node_modules/.bin/tsx'),
    ['infra/local/main.ts'],
    {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'error',
      EMULATOR_PORT: '0',
      CALLBACK_RECEIVER_PORT: '0',
      ...env,
    },
  )
  children.push(child)
  return new Promise<{ stdout: string; stderr: string; code: number | null; output: () => string }>(
    (done) => {
      const banner = setInterval(() => {
        if (/Try it:/.test(stdout())) {
          clearInterval(banner)
          done({ stdout: stdout(), stderr: stderr(), code: null, output: stdout })
        }
      }, 50)
      child.once('exit', (code) => {
        clearInterval(banner)
        done({ stdout: stdout(), stderr: stderr(), code, output: stdout })
      })
    },
  )
}

describe('npm start', () => {
  it('moves a busy default port to a free one and prints the export line the CLI reads', async () => {
    // Hold the default API port (if something else already holds it, the start moves all the same).
    await occupy(8080).catch(() => undefined)
    const started = await start({})
    expect(started.code).toBeNull()
    expect(started.stderr).toContain(
      'API: port 8080 is in use; listening on a free port instead (PORT chooses one).',
    )
    const exported =
      /export DOMAIN_GATEWAY_URL=(\S+) DOMAIN_GATEWAY_KEY=(dgw_\S+) DOMAIN_GATEWAY_ADMIN_KEY=(\S+)/.exec(
        started.stdout,
      )
    expect(exported).not.toBeNull()
    const [, url, key, adminKey] = exported as unknown as [string, string, string, string]
    expect(url).not.toBe('http://127.0.0.1:8080')
    // The exported key works against the exported URL.
    const tasks = await fetch(`${url}/tasks`, { headers: { authorization: `Bearer ${key}` } })
    expect(tasks.status).toBe(200)

    // A key made for another tenant, pointed at the bundled receiver: its callbacks verify too.
    const receiverUrl = /Callbacks\s+(http\S+)/.exec(started.stdout)?.[1] as string
    const created = await fetch(`${url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        tenant: 'other-team',
        scopes: ['tasks:read'],
        callbackUrl: receiverUrl,
      }),
    })
    expect(created.status).toBe(201)
    const other = (await created.json()) as { key: string }
    const ping = await fetch(`${url}/webhooks/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${other.key}`, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(await ping.json()).toMatchObject({ outcome: 'delivered' })
    await expect
      .poll(() => started.output())
      .toMatch(/callback msg_\S+: ping for other-team \(signature verified\)/)

    // The banner's first steps, on the signed demo zone the stack serves on a local DNS server.
    const call = (path: string, init: RequestInit = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          ...init.headers,
        },
      })
    const suggested = (await (await call('/domains/demo-signed.com/ds/suggested')).json()) as {
      source: string
      records: { keyTag: number }[]
    }
    expect(suggested.source).toBe('cds')
    // A DS for a key the zone does not serve: refused with the evidence, nothing written.
    const stray = await call('/domains/demo-signed.com/ds', {
      method: 'POST',
      body: JSON.stringify({
        keyTag: 2371,
        algorithm: 13,
        digestType: 2,
        digest: 'f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598',
      }),
    })
    expect(stray.status).toBe(409)
    expect(((await stray.json()) as { type: string }).type).toBe('/docs#problem-unsafe-change')
    // The zone's own key, as the README gives it (the demo keys are the same at every start):
    // accepted, polled by the local poller's worker, its signed callback printed, then published.
    const readmeKey = /"dnskey":"(257 3 13 [^"]+)"/.exec(readFileSync('README.md', 'utf8'))?.[1]
    expect(started.stdout).toContain(readmeKey)
    const submitted = await call('/domains/demo-signed.com/ds', {
      method: 'POST',
      headers: { 'idempotency-key': 'local-start-first-try' },
      body: JSON.stringify({ dnskey: readmeKey }),
    })
    expect(submitted.status).toBe(202)
    const { id, safety } = (await submitted.json()) as { id: string; safety: { verdict: string } }
    expect(safety.verdict).toBe('safe')
    await expect
      .poll(() => started.output(), { timeout: 30_000 })
      .toMatch(new RegExp(`callback msg_${id}: .*\\(signature verified\\)`))
    await expect
      .poll(
        async () =>
          ((await (await call(`/tasks/${id}`)).json()) as { publishedAt?: string }).publishedAt,
        { timeout: 30_000 },
      )
      .toBeDefined()
  }, 60_000)

  it('stops with one sentence naming the part and the variable when a chosen port is busy', async () => {
    const port = await occupy()
    const started = await start({ PORT: String(port) })
    expect(started.code).toBe(1)
    expect(started.stderr.trim()).toBe(
      `npm start: The API cannot listen on port ${port} (PORT): another process uses it. Set PORT to a free port, or 0 for any.`,
    )
  }, 60_000)
})

describe("the bundled receiver's line", () => {
  it('names the type, the subject, the status and why it failed', () => {
    expect(
      describeCallback({
        type: 'task.failed',
        data: {
          id: 'tsk_1',
          status: 'failed',
          error: { code: 'DomainNotExist', message: 'the domain is not in this account' },
        },
      }),
    ).toBe('task.failed for tsk_1 (failed): DomainNotExist: the domain is not in this account')
    expect(describeCallback({ type: 'domain.drifted', data: { domain: 'example.com' } })).toBe(
      'domain.drifted for example.com',
    )
    expect(
      describeCallback({
        type: 'dnssec.scan.failed',
        data: { domain: 'example.com', reason: 'the servers disagree' },
      }),
    ).toBe('dnssec.scan.failed for example.com: the servers disagree')
    expect(describeCallback({ type: 'ping', data: { tenant: 'local-dev' } })).toBe(
      'ping for local-dev',
    )
  })
})
