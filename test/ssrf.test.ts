import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STRICT_POLICY } from '#shared/webhooks/address-policy.ts'
import { createGuardedAgent, type Lookup } from '#shared/webhooks/guarded-agent.ts'
import { sendWebhook } from '#shared/webhooks/send-webhook.ts'
import { type Harness, postJson, startHarness, TEST_HOSTS } from './helpers/gateway.ts'
import { TestReceiver } from './helpers/receiver.ts'

let strict: Harness
let receiver: TestReceiver
beforeAll(async () => {
  strict = await startHarness({
    env: { CALLBACK_ALLOW_LOOPBACK: 'false', CALLBACK_ALLOW_HTTP: 'true' },
  })
  receiver = new TestReceiver()
  await receiver.start()
})
afterAll(async () => {
  await receiver.stop()
  await strict.close()
})

describe('SSRF guard at submission', () => {
  it.each([
    'http://127.0.0.1/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://10.0.0.1/',
    'http://100.64.1.1/',
    'http://0.0.0.0/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://localhost/hook',
    'http://rebind.test/hook',
    'http://internal.test/hook',
    'http://mixed.test/hook',
    'http://v6-metadata.test/hook',
    'http://does-not-resolve.test/hook',
  ])('refuses %s with a clear 400', async (url) => {
    const response = await strict.request(
      '/domains/ssrf.com/ds/sync',
      postJson({ callbackUrl: url }),
    )
    expect(response.status).toBe(400)
    const body = (await response.json()) as { type: string; detail: string }
    expect(body.type).toBe('/docs#problem-callback-url-refused')
    expect(body.detail).toMatch(/not allowed|cannot be resolved/)
  })

  it('a refused name says the same whether it resolves to an internal address or not at all, naming no address', async () => {
    const details = []
    for (const host of ['localhost', 'internal.test', 'does-not-resolve.test']) {
      const response = await strict.request(
        '/domains/ssrf.com/ds/sync',
        postJson({ callbackUrl: `http://${host}/hook` }),
      )
      const { detail } = (await response.json()) as { detail: string }
      expect(detail).not.toMatch(/\d+\.\d+\.\d+\.\d+|::|loopback|private/)
      details.push(detail.replace(host, '<host>'))
    }
    expect(new Set(details).size).toBe(1)
  })

  it("a key's stored default URL is checked at each submission: one that now resolves inside is refused, nothing written", async () => {
    // Stored when it was fine; its name now resolves to a private address.
    const key = await strict.newKey(
      'rebound',
      ['sync:write', 'tasks:read'],
      'http://internal.test/hook',
    )
    const response = await strict.request('/domains/rebound.com/ds/sync', {
      method: 'POST',
      key: key.key,
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { type: string }).type).toBe(
      '/docs#problem-callback-url-refused',
    )
    const listed = await strict.request('/tasks', { key: key.key })
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([])
  })

  it('accepts a public address', async () => {
    const response = await strict.request(
      '/domains/ssrf.com/ds/sync',
      postJson({ callbackUrl: 'https://hooks.example.com/x' }),
    )
    expect(response.status).toBe(202)
  })
})

describe('SSRF guard at connect time', () => {
  const message = () => ({
    url: receiver.url,
    id: 'msg_ssrf',
    body: '{}',
    secrets: [`whsec_${Buffer.alloc(32).toString('base64')}`],
  })
  const fakeLookup: Lookup = (hostname, options, callback) => {
    const addresses = (TEST_HOSTS[hostname] ?? []).map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }))
    if (addresses.length === 0)
      return callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), [])
    if (options.all) return callback(null, addresses)
    callback(null, addresses[0]!.address, addresses[0]!.family)
  }

  it('refuses to dial a loopback literal under the strict policy', async () => {
    const agent = await createGuardedAgent(STRICT_POLICY)
    const result = await sendWebhook(message(), {
      dispatcher: agent,
      timeoutMs: 2_000,
      now: Date.now,
      allowHttp: true,
    })
    expect(result.outcome).toBe('blocked')
    expect(receiver.received).toHaveLength(0)
  })

  it('checks the URL itself again at delivery: plain http and credentials are blocked, never sent', async () => {
    const agent = await createGuardedAgent({ allowLoopback: true, allowlist: [] })
    const port = new URL(receiver.url).port
    for (const [url, allowHttp] of [
      [`http://127.0.0.1:${port}/plainhttp`, false],
      [`http://user:pw@127.0.0.1:${port}/hook`, true],
    ] as const) {
      const result = await sendWebhook(
        { ...message(), url },
        { dispatcher: agent, timeoutMs: 2_000, now: Date.now, allowHttp },
      )
      expect(result.outcome, url).toBe('blocked')
    }
    expect(receiver.received).toHaveLength(0)
  })

  it('refuses a host name that resolves to a blocked address when dialled (DNS rebinding)', async () => {
    const agent = await createGuardedAgent(STRICT_POLICY, { lookup: fakeLookup })
    const port = new URL(receiver.url).port
    for (const host of ['rebind.test', 'localhost', 'mixed.test']) {
      const result = await sendWebhook(
        { ...message(), url: `http://${host}:${port}/hook` },
        { dispatcher: agent, timeoutMs: 2_000, now: Date.now, allowHttp: true },
      )
      expect(result.outcome, host).toBe('blocked')
    }
    expect(receiver.received).toHaveLength(0)
  })

  it('dials loopback when local mode allows it', async () => {
    const agent = await createGuardedAgent(
      { allowLoopback: true, allowlist: [] },
      { lookup: fakeLookup },
    )
    const port = new URL(receiver.url).port
    const result = await sendWebhook(
      { ...message(), url: `http://localhost:${port}/hook` },
      { dispatcher: agent, timeoutMs: 2_000, now: Date.now, allowHttp: true },
    )
    expect(result.outcome).toBe('delivered')
    expect(receiver.received).toHaveLength(1)
  })
})
