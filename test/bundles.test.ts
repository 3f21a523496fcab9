import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '#infra/emulator/server.ts'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { tableDefinition } from '#shared/store/table-definition.ts'
import { SHA256_DIGEST, startTestEmulator, TEST_CREDENTIAL } from './helpers/emulator.ts'
import { localDynamoDb } from './helpers/gateway.ts'
import { startMoto } from './helpers/moto.ts'
import { TestReceiver } from './helpers/receiver.ts'
import { startRecordingProxy } from './helpers/recording-proxy.ts'

/**
 * The built bundles (dist/<name>/index.mjs), imported as Lambda would, driven with real event
 * shapes, against the embedded DynamoDB (through a recording proxy), the emulator and moto's SSM.
 */
type Handler = (event: unknown, context: unknown) => Promise<Record<string, unknown>>
const fixture = (name: string) =>
  JSON.parse(readFileSync(resolve('test/fixtures/events', name), 'utf8'))
const ADMIN_KEY = 'admin-key-from-ssm-0123456789abcdef'
const STAGE = 'bundletest'
const TABLE = 'domain-gateway-bundle-test'

let proxy: Awaited<ReturnType<typeof startRecordingProxy>>
let moto: Awaited<ReturnType<typeof startMoto>>
let emulator: RunningEmulator
const receiver = new TestReceiver()
type FunctionName = 'api' | 'poller' | 'sync' | 'drift'
const handlers: Record<FunctionName, Handler> = {} as never

async function loadBundle(name: FunctionName): Promise<Handler> {
  const module = (await import(pathToFileURL(resolve(`dist/${name}/index.mjs`)).href)) as {
    handler: Handler
  }
  expect(typeof module.handler).toBe('function')
  return module.handler
}

async function invoke(name: FunctionName, event: unknown, context: unknown = {}) {
  proxy.state.caller = name
  return handlers[name](event, context)
}

function httpEvent(
  base: 'http-api-v2.json' | 'function-url.json',
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; query?: string } = {},
) {
  const event = fixture(base)
  event.rawPath = path
  event.rawQueryString = options.query ?? ''
  event.queryStringParameters = options.query
    ? Object.fromEntries(new URLSearchParams(options.query))
    : undefined
  event.requestContext.http.method = method
  event.requestContext.http.path = path
  event.headers = { ...event.headers, ...options.headers }
  event.body = options.body === undefined ? null : JSON.stringify(options.body)
  if (options.body !== undefined) event.headers['content-type'] = 'application/json'
  else delete event.headers['content-type']
  return event
}

const parse = (response: Record<string, unknown>) =>
  JSON.parse(String(response.body)) as Record<string, unknown>

beforeAll(async () => {
  const db = await localDynamoDb()
  await ensureTable(db.endpoint, TABLE)
  proxy = await startRecordingProxy(db.endpoint)
  moto = await startMoto()
  emulator = await startTestEmulator({ account: { taskMs: 100 } })
  await receiver.start()
  const ssm = new SSMClient({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
  const put = (name: string, value: string) =>
    ssm.send(
      new PutParameterCommand({
        Name: `/domain-gateway/${STAGE}/${name}`,
        Value: value,
        Type: 'SecureString',
      }),
    )
  await put('aliyun-access-key-id', TEST_CREDENTIAL.accessKeyId)
  await put('aliyun-access-key-secret', TEST_CREDENTIAL.accessKeySecret)
  await put('admin-api-key', ADMIN_KEY)
  await put('sync-webhook-secret', `whsec_${Buffer.alloc(32, 9).toString('base64')}`)
  ssm.destroy()
  Object.assign(process.env, {
    TABLE_NAME: TABLE,
    DYNAMODB_ENDPOINT: proxy.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    SSM_ENDPOINT: moto.endpoint,
    ALIYUN_ENDPOINT: emulator.url,
    ALIYUN_ACCESS_KEY_ID_PARAM: `/domain-gateway/${STAGE}/aliyun-access-key-id`,
    ALIYUN_ACCESS_KEY_SECRET_PARAM: `/domain-gateway/${STAGE}/aliyun-access-key-secret`,
    ADMIN_API_KEY_PARAM: `/domain-gateway/${STAGE}/admin-api-key`,
    SYNC_WEBHOOK_SECRET_PARAM: `/domain-gateway/${STAGE}/sync-webhook-secret`,
    SYNC_CALLBACK_URL: receiver.url,
    CALLBACK_ALLOW_HTTP: 'true',
    CALLBACK_ALLOW_LOOPBACK: 'true',
    // A poller invocation with 6.5 s left sends only callbacks whose timeout fits before its end.
    CALLBACK_TIMEOUT_MS: '2000',
    POLL_DELAYS: '0.05',
    LOG_LEVEL: 'error',
  })
  handlers.api = await loadBundle('api')
  handlers.poller = await loadBundle('poller')
  handlers.sync = await loadBundle('sync')
  handlers.drift = await loadBundle('drift')
}, 60_000)

afterAll(async () => {
  await receiver.stop()
  await emulator?.close()
  await moto?.stop()
  await proxy?.close()
})

let tenantKey = ''
let taskId = ''

describe('the API bundle', () => {
  it('answers an API Gateway HTTP API v2 event: the admin key comes from SSM', async () => {
    const response = await invoke(
      'api',
      httpEvent('http-api-v2.json', 'POST', '/admin/keys', {
        body: {
          tenant: 'bundle',
          scopes: ['ds:write', 'dns:write', 'tasks:read'],
          callbackUrl: receiver.url,
        },
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      }),
    )
    expect(response.statusCode).toBe(201)
    tenantKey = String(parse(response).key)
    expect(tenantKey).toMatch(/^dgw_/)
  })

  it('submits a task through the signed upstream client (secrets from SSM) and answers 202', async () => {
    const response = await invoke(
      'api',
      httpEvent('http-api-v2.json', 'POST', '/domains/bundle.example.com/ds', {
        body: { keyTag: 7, algorithm: 13, digestType: 2, digest: SHA256_DIGEST },
        headers: { authorization: `Bearer ${tenantKey}`, 'idempotency-key': 'bundle-1' },
      }),
    )
    expect(response.statusCode).toBe(202)
    expect((response.headers as Record<string, string>).location).toMatch(/^\/tasks\/tsk_/)
    taskId = String(parse(response).id)
    expect(emulator.account.tasks.size).toBe(1)
  })

  it('answers a Lambda Function URL event, and problem+json for bad input', async () => {
    const read = await invoke(
      'api',
      httpEvent('function-url.json', 'GET', `/tasks/${taskId}`, {
        headers: { authorization: `Bearer ${tenantKey}` },
      }),
    )
    expect(read.statusCode).toBe(200)
    expect(parse(read).id).toBe(taskId)
    const bad = await invoke(
      'api',
      httpEvent('function-url.json', 'POST', '/domains/bundle.example.com/ds', {
        headers: { authorization: `Bearer ${tenantKey}` },
        body: { keyTag: 99999 },
      }),
    )
    expect(bad.statusCode).toBe(422)
    expect((bad.headers as Record<string, string>)['content-type']).toBe('application/problem+json')
  })
})

describe('the poller bundle', () => {
  it('runs on an EventBridge scheduled event within the time budget and delivers the callback', async () => {
    await new Promise((done) => setTimeout(done, 150))
    const stats = await invoke('poller', fixture('scheduled-event.json'), {
      getRemainingTimeInMillis: () => 6_500,
    })
    expect(stats.rounds).toBeGreaterThan(0)
    const read = await invoke(
      'api',
      httpEvent('function-url.json', 'GET', `/tasks/${taskId}`, {
        headers: { authorization: `Bearer ${tenantKey}` },
      }),
    )
    expect(parse(read)).toMatchObject({ status: 'succeeded', callback: { state: 'delivered' } })
    expect(receiver.received.map((request) => request.id)).toContain(`msg_${taskId}`)
  })
})

describe('the sync bundle', () => {
  it('takes the EventBridge envelope and the input form, and a retried event submits nothing twice', async () => {
    const envelope = {
      ...fixture('scheduled-event.json'),
      detail: { domains: ['sync-bundle.example.com'] },
    }
    const first = await invoke('sync', envelope, { awsRequestId: 'req-1' })
    expect(first).toMatchObject({
      eventId: envelope.id,
      results: [{ target: 'sync-bundle.example.com', status: 202, replayed: false }],
    })
    const again = await invoke('sync', envelope, { awsRequestId: 'req-2' })
    expect(again).toMatchObject({ results: [{ status: 202, replayed: true }] })
    const input = {
      id: 'transformed-event-1',
      time: '2026-11-22T03:00:00Z',
      instanceIds: ['ST2017120814571100001303'],
    }
    const viaInput = await invoke('sync', input, { awsRequestId: 'req-3' })
    expect(viaInput).toMatchObject({
      eventId: 'transformed-event-1',
      results: [{ action: 'dnshost.sync', status: 202 }],
    })
    const upstream = [...emulator.account.tasks.values()].map((task) => task.kind.type)
    expect(upstream.filter((type) => type === 'syncDs')).toHaveLength(1)
    expect(upstream.filter((type) => type === 'syncDnsHost')).toHaveLength(1)
  })
})

describe('the drift bundle', () => {
  it('walks the managed domains on a scheduled event and reports one drift', async () => {
    const put = await invoke(
      'api',
      httpEvent('function-url.json', 'PUT', '/domains/drift-bundle.example.com/name-servers', {
        headers: { authorization: `Bearer ${tenantKey}` },
        body: { aliyunDns: true },
      }),
    )
    expect(put.statusCode).toBe(202)
    expect(parse(put)).toMatchObject({ status: 'succeeded', steps: [] })
    // Changed behind the gateway's back, e.g. in the console.
    emulator.account.nameServers.set('drift-bundle.example.com', ['ns1.elsewhere.example'])
    const context = { getRemainingTimeInMillis: () => 30_000 }
    const stats = await invoke('drift', fixture('scheduled-event.json'), context)
    expect(stats).toMatchObject({ checked: 1, drifted: 1, failed: 0 })
    const again = await invoke('drift', fixture('scheduled-event.json'), context)
    expect(again).toMatchObject({ checked: 1, drifted: 0 })
  })
})

describe('the packaged template', () => {
  let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }
  beforeAll(() => {
    execFileSync('npx', ['osls', 'package', '--stage', STAGE, '--package', '.serverless-test'], {
      stdio: 'ignore',
    })
    template = JSON.parse(
      readFileSync('.serverless-test/cloudformation-template-update-stack.json', 'utf8'),
    )
  }, 60_000)

  function statementsOf(fn: string) {
    const lambda = template.Resources[`${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction`]
    if (!lambda) throw new Error(`no function ${fn} in the template`)
    const role = (lambda.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]
    const policies = template.Resources[role]?.Properties.Policies as {
      PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] }
    }[]
    return policies.flatMap((policy) => policy.PolicyDocument.Statement)
  }

  function resourceNames(resource: unknown): string[] {
    const list = Array.isArray(resource) ? resource : [resource]
    return list.map((entry) => {
      const value = entry as { 'Fn::GetAtt'?: [string, string]; 'Fn::Sub'?: string }
      if (value['Fn::GetAtt']?.[0] === 'GatewayTable') return 'table'
      const sub = value['Fn::Sub'] ?? ''
      const index = /\$\{GatewayTable\.Arn\}\/index\/(\w+)/.exec(sub)
      return index ? `index/${index[1]}` : sub
    })
  }

  it('grants every DynamoDB operation each bundle performed, on exactly the table or index it used', () => {
    const callers = ['api', 'poller', 'sync', 'drift'] as const
    for (const caller of callers) {
      const used = proxy.operations.filter((operation) => operation.caller === caller)
      expect(used.length, caller).toBeGreaterThan(0)
      const statements = statementsOf(caller)
      for (const operation of used) {
        expect(operation.table).toBe(TABLE)
        const resource = operation.index ? `index/${operation.index}` : 'table'
        const allowed = statements.some(
          (statement) =>
            statement.Action.includes(`dynamodb:${operation.operation}`) &&
            resourceNames(statement.Resource).includes(resource),
        )
        expect(allowed, `${caller} performs ${operation.operation} on ${resource}`).toBe(true)
      }
    }
  })

  it('grants no wildcard action and reads only its own secret parameters', () => {
    for (const fn of ['api', 'poller', 'sync', 'drift']) {
      for (const statement of statementsOf(fn)) {
        for (const action of statement.Action) expect(action).not.toContain('*')
        expect(JSON.stringify(statement.Resource)).not.toBe('"*"')
      }
    }
    const apiParams = JSON.stringify(
      statementsOf('api').filter((s) => s.Action.includes('ssm:GetParameters')),
    )
    expect(apiParams).toContain('admin-api-key')
    expect(apiParams).not.toContain('sync-webhook-secret')
  })

  it('declares the same table as the code', () => {
    const table = template.Resources.GatewayTable?.Properties as Record<string, unknown>
    const code = tableDefinition('x')
    expect(table.KeySchema).toEqual(code.KeySchema)
    expect(table.AttributeDefinitions).toEqual(code.AttributeDefinitions)
    expect(table.GlobalSecondaryIndexes).toEqual(code.GlobalSecondaryIndexes)
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true })
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true })
  })
})
