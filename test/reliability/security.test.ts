import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPoller } from '#shared/poller/run-poller.ts'
import { SHA256_DIGEST } from '../helpers/emulator.ts'
import { ADMIN_KEY as ADMIN_KEY_OF_HARNESS, startHarness } from '../helpers/gateway.ts'
import { scopedOperations } from '../helpers/scoped-operations.ts'
import { ADMIN_KEY, call, ReliabilityStack } from './stack.ts'

/**
 * Every route without a key, with a revoked key, with a key lacking the scope, and across
 * tenants; SSRF address forms; and not one secret in any log line written meanwhile.
 */
const stack = new ReliabilityStack()
let alpha: { id: string; key: string }
let beta: { id: string; key: string }
let readOnly: { id: string; key: string }
let revoked: { id: string; key: string }
let alphaTask = ''

const ROUTES: { method: string; path: () => string; scope: string; body?: unknown }[] = [
  {
    method: 'POST',
    path: () => '/domains/sec.com/ds',
    scope: 'ds:write',
    body: { keyTag: 1, algorithm: 13, digestType: 2, digest: SHA256_DIGEST },
  },
  {
    method: 'PUT',
    path: () => '/domains/sec.com/ds/1',
    scope: 'ds:write',
    body: { algorithm: 13, digestType: 2, digest: SHA256_DIGEST },
  },
  { method: 'DELETE', path: () => '/domains/sec.com/ds/1', scope: 'ds:write' },
  { method: 'POST', path: () => '/domains/sec.com/ds/sync', scope: 'sync:write' },
  {
    method: 'POST',
    path: () => '/instances/ST2017120814571100001303/dns-hosts/sync',
    scope: 'sync:write',
  },
  {
    method: 'POST',
    path: () => '/dns-batch',
    scope: 'dns:write',
    body: { domains: ['sec.com'], aliyunDns: true },
  },
  { method: 'GET', path: () => '/domains/sec.com/ds', scope: 'tasks:read' },
  { method: 'GET', path: () => `/tasks/${alphaTask}`, scope: 'tasks:read' },
  { method: 'GET', path: () => '/tasks', scope: 'tasks:read' },
  { method: 'GET', path: () => `/tasks/${alphaTask}/deliveries`, scope: 'tasks:read' },
  { method: 'POST', path: () => `/tasks/${alphaTask}/deliveries/redeliver`, scope: 'sync:write' },
]
const ADMIN_ROUTES = [
  { method: 'POST', path: '/admin/keys', body: { tenant: 'x', scopes: ['tasks:read'] } },
  { method: 'GET', path: '/admin/keys' },
  { method: 'DELETE', path: '/admin/keys/abcdefghijklmnop' },
  { method: 'POST', path: '/admin/keys/abcdefghijklmnop/webhook-secret/rotate' },
]

beforeAll(async () => {
  await stack.start()
  alpha = await stack.newKey(
    'alpha',
    ['ds:write', 'dns:write', 'sync:write', 'tasks:read'],
    stack.receiver.url,
  )
  beta = await stack.newKey(
    'beta',
    ['ds:write', 'dns:write', 'sync:write', 'tasks:read'],
    stack.receiver.url,
  )
  readOnly = await stack.newKey('reader', ['tasks:read'])
  revoked = await stack.newKey('gone', ['ds:write', 'dns:write', 'sync:write', 'tasks:read'])
  expect((await call(stack, ADMIN_KEY, 'DELETE', `/admin/keys/${revoked.id}`)).status).toBe(200)
  alphaTask = String(
    (await call(stack, alpha.key, 'POST', '/domains/alpha-task.com/ds/sync')).body.id,
  )
  const deps = stack.pollerDeps()
  for (
    let i = 0;
    i < 20 &&
    (await stack.apiDeps.tasks.get(alphaTask, Date.now()))?.callback.state !== 'delivered';
    i++
  ) {
    await runPoller(deps, Date.now() + 300)
  }
})
afterAll(() => stack.stop())

describe('authentication and authorisation on every route', () => {
  it.each(
    ROUTES.map((route) => [`${route.method} ${route.path.toString().slice(6)}`, route] as const),
  )('%s', async (_label, route) => {
    const anonymous = await fetch(`${stack.apiUrl}${route.path()}`, { method: route.method })
    expect(anonymous.status).toBe(401)
    expect((await call(stack, revoked.key, route.method, route.path(), route.body)).status).toBe(
      401,
    )
    expect(
      (
        await call(
          stack,
          `dgw_aaaaaaaaaaaaaaaa_${'A'.repeat(43)}`,
          route.method,
          route.path(),
          route.body,
        )
      ).status,
    ).toBe(401)
    expect((await call(stack, ADMIN_KEY, route.method, route.path(), route.body)).status).toBe(401)
    if (route.scope !== 'tasks:read') {
      expect((await call(stack, readOnly.key, route.method, route.path(), route.body)).status).toBe(
        route.path().includes(alphaTask) ? 404 : 403,
      )
    }
  })

  it.each(ADMIN_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    'admin %s needs the admin key',
    async (_label, route) => {
      expect((await call(stack, alpha.key, route.method, route.path, route.body)).status).toBe(401)
      expect((await fetch(`${stack.apiUrl}${route.path}`, { method: route.method })).status).toBe(
        401,
      )
    },
  )

  it("another tenant's task is answered as missing on every task route", async () => {
    for (const [method, path] of [
      ['GET', `/tasks/${alphaTask}`],
      ['GET', `/tasks/${alphaTask}/deliveries`],
      ['POST', `/tasks/${alphaTask}/deliveries/redeliver`],
    ] as const) {
      const answer = await call(stack, beta.key, method, path)
      expect(answer.status, `${method} ${path}`).toBe(404)
    }
    const list = await call(stack, beta.key, 'GET', '/tasks')
    expect(JSON.stringify(list.body)).not.toContain(alphaTask)
    expect((await call(stack, alpha.key, 'GET', `/tasks/${alphaTask}`)).status).toBe(200)
  })
})

describe('SSRF address forms', () => {
  it('are refused at submission under the production policy', async () => {
    const strict = await startHarness({
      env: { CALLBACK_ALLOW_LOOPBACK: 'false', CALLBACK_ALLOW_HTTP: 'true' },
    })
    try {
      for (const url of [
        'http://127.0.0.1/',
        'http://127.1/',
        'http://2130706433/',
        'http://0x7f000001/',
        'http://[::1]/',
        'http://[::ffff:127.0.0.1]/',
        'http://[0:0:0:0:0:ffff:7f00:1]/',
        'http://169.254.169.254/',
        'http://[fd00:ec2::254]/',
        'http://[64:ff9b::a9fe:a9fe]/',
        'http://[::127.0.0.1]/',
        'http://[::169.254.169.254]/',
        'http://user:pw@example.com/',
        'http://10.0.0.1/',
        'http://172.16.0.1/',
        'http://192.168.0.1/',
        'http://100.64.0.1/',
        'http://0.0.0.0/',
        'http://[::]/',
        'http://224.0.0.1/',
        'http://[fe80::1]/',
        'http://[fc00::1]/',
        'http://localhost/',
        'http://rebind.test/',
        'http://internal.test/',
        'http://mixed.test/',
        'http://v6-metadata.test/',
      ]) {
        const response = await strict.request('/domains/ssrf.com/ds/sync', {
          method: 'POST',
          body: JSON.stringify({ callbackUrl: url }),
        })
        expect(response.status, url).toBe(400)
      }
      // The same check for an API key's default callback URL.
      for (const url of [
        'http://169.254.169.254/',
        'http://user:pw@example.com/',
        'http://[::127.0.0.1]/',
      ]) {
        const created = await strict.request('/admin/keys', {
          method: 'POST',
          key: ADMIN_KEY_OF_HARNESS,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ tenant: 'ssrf', scopes: ['tasks:read'], callbackUrl: url }),
        })
        expect(created.status, url).toBe(400)
      }
    } finally {
      await strict.close()
    }
  })
})

describe('secrets', () => {
  it('appear in no log line written during this suite', async () => {
    // Provoke the paths that handle secrets: failed logins with real-looking keys, key creation,
    // rotation, upstream signing errors.
    await call(stack, `${alpha.key}x`, 'GET', '/tasks')
    await fetch(`${stack.apiUrl}/tasks`, {
      headers: { authorization: `Basic ${Buffer.from(`u:${alpha.key}`).toString('base64')}` },
    })
    const created = await call(stack, ADMIN_KEY, 'POST', '/admin/keys', {
      tenant: 'logged',
      scopes: ['tasks:read'],
    })
    stack.secrets.push(String(created.body.key), String(created.body.webhookSecret))
    const rotated = await call(
      stack,
      ADMIN_KEY,
      'POST',
      `/admin/keys/${alpha.id}/webhook-secret/rotate`,
      { graceSeconds: 60 },
    )
    stack.secrets.push(String(rotated.body.webhookSecret))
    expect(stack.logLines.length).toBeGreaterThan(10)
    expect(stack.leakedSecrets()).toEqual([])
  })
})

// Last: it narrows beta's scope.
describe('the tenant scope on every route', () => {
  it('a domain or instance outside the scope answers 404 on every operation of the document', async () => {
    const set = await call(stack, ADMIN_KEY, 'PUT', '/admin/tenants/beta', {
      domains: ['beta-only.com'],
    })
    expect(set.status).toBe(200)
    const doc = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as {
      paths: Record<string, object>
    }
    const operations = scopedOperations(doc, 'sec.com', 'ST2017120814571100001303')
    expect(operations.length).toBeGreaterThanOrEqual(13)
    for (const operation of operations) {
      const answer = await call(stack, beta.key, operation.method, operation.path, operation.body)
      expect(answer.status, `${operation.method} ${operation.path}`).toBe(404)
    }
  })
})
