import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gunzipSync } from 'node:zlib'
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { RunningEmulator } from '#infra/emulator/server.ts'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { METRIC_NAMES } from '#shared/metrics.ts'
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
let sqs: SQSClient
let queueUrl = ''
let emulator: RunningEmulator
const receiver = new TestReceiver()
/** The template's functions; `pollerWorker` is the poller bundle's `worker` export. */
type FunctionName = 'api' | 'poller' | 'pollerWorker' | 'sync' | 'drift'
const handlers: Record<FunctionName, Handler> = {} as never

async function loadBundle(name: string, entry = 'handler'): Promise<Handler> {
  const module = (await import(pathToFileURL(resolve(`dist/${name}/index.mjs`)).href)) as Record<
    string,
    Handler
  >
  expect(typeof module[entry]).toBe('function')
  return module[entry] as Handler
}

/** What the bundles wrote to stdout (log lines, EMF metric lines), captured, not shown. */
const stdoutLines: Record<string, unknown>[] = []
let invocations = 0

async function invoke(name: FunctionName, event: unknown, context: object = {}) {
  proxy.state.caller = name
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      try {
        stdoutLines.push(JSON.parse(line) as Record<string, unknown>)
      } catch {
        stdoutLines.push({ text: line })
      }
    }
    return true
  })
  try {
    return await handlers[name](event, { awsRequestId: `aws-req-${++invocations}`, ...context })
  } finally {
    write.mockRestore()
  }
}

const emf = (metric: string) =>
  stdoutLines.filter(
    (line) => (line._aws as { CloudWatchMetrics?: unknown } | undefined) && metric in line,
  )

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
  // The queue the scheduled poller hands its shards to, on moto's SQS as the template makes it.
  sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `domain-gateway-${STAGE}-poller-shards`,
      Attributes: { VisibilityTimeout: '420', MessageRetentionPeriod: '300' },
    }),
  )
  queueUrl = queue.QueueUrl as string
  Object.assign(process.env, {
    POLLER_QUEUE_URL: queueUrl,
    POLLER_WORKERS: '2',
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
    // The test's domains are served nowhere: their pre-flight checks are unverified, carried out.
    DNS_LOOKUP: 'overrides',
    PREFLIGHT_UNVERIFIED: 'proceed',
    // A poller invocation with 6.5 s left sends only callbacks whose timeout fits before its end.
    CALLBACK_TIMEOUT_MS: '2000',
    POLL_DELAYS: '0.05',
    LOG_LEVEL: 'info',
    METRICS: 'on',
    METRICS_SERVICE: 'bundle-test',
    _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  })
  handlers.api = await loadBundle('api')
  handlers.poller = await loadBundle('poller')
  handlers.pollerWorker = await loadBundle('poller', 'worker')
  handlers.sync = await loadBundle('sync')
  handlers.drift = await loadBundle('drift')
}, 60_000)

afterAll(async () => {
  sqs?.destroy()
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
    // EMF metrics: the accepted task and the upstream call, with the service dimension.
    expect(emf('TasksAccepted').at(-1)).toMatchObject({
      Service: 'bundle-test',
      Action: 'ds.add',
      TasksAccepted: 1,
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'DomainGateway',
            Dimensions: [['Service'], ['Service', 'Action']],
            Metrics: [{ Name: 'TasksAccepted', Unit: 'Count' }],
          },
        ],
      },
    })
    expect(emf('UpstreamCalls').at(-1)).toMatchObject({
      Action: 'SaveSingleTaskForAddingDSRecord',
      UpstreamCalls: 1,
    })
  })

  it('puts the Lambda request id, cold start and trace id on every log line', () => {
    const logs = stdoutLines.filter((line) => typeof line.msg === 'string')
    expect(logs.length).toBeGreaterThan(1)
    for (const line of logs) {
      expect(line.awsRequestId).toMatch(/^aws-req-\d+$/)
      expect(line.traceId).toBe('1-5759e988-bd862e3fe1be46a994272793')
      expect(typeof line.coldStart).toBe('boolean')
    }
    const requests = logs.filter((line) => line.msg === 'request')
    expect(requests[0]).toMatchObject({ coldStart: true, requestId: expect.any(String) })
    expect(requests.slice(1).every((line) => line.coldStart === false)).toBe(true)
  })

  it('serves /docs and its renderer from the file in the zip, gzipped, with no other origin', async () => {
    const page = await invoke('api', httpEvent('http-api-v2.json', 'GET', '/docs'))
    expect(page.statusCode).toBe(200)
    expect(String(page.body)).toContain('<script src="/docs/redoc.standalone.js">')
    const script = await invoke(
      'api',
      httpEvent('http-api-v2.json', 'GET', '/docs/redoc.standalone.js', {
        headers: { 'accept-encoding': 'gzip' },
      }),
    )
    expect(script.statusCode).toBe(200)
    expect((script.headers as Record<string, string>)['content-encoding']).toBe('gzip')
    expect(script.isBase64Encoded).toBe(true)
    const text = gunzipSync(Buffer.from(String(script.body), 'base64')).toString('utf8')
    expect(text).toBe(readFileSync('dist/api/redoc.standalone.js', 'utf8'))
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

/** An SQS event as Lambda's event source mapping hands a received message to the function. */
function sqsEvent(message: Message) {
  return {
    Records: [
      {
        messageId: message.MessageId,
        receiptHandle: message.ReceiptHandle,
        body: message.Body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'AROAEXAMPLE',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody,
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:domain-gateway-${STAGE}-poller-shards`,
        awsRegion: 'us-east-1',
      },
    ],
  }
}

describe('the poller bundle', () => {
  it('hands its shards to the queue on an EventBridge scheduled event; the workers it feeds deliver the callback', async () => {
    await new Promise((done) => setTimeout(done, 150))
    const context = { getRemainingTimeInMillis: () => 6_500 }
    // The parts are valid for the scheduled run's budget (a minute, as on AWS), so a worker that a
    // busy machine starts late still works its part; each worker gets its own 6.5 s.
    const scheduled = { getRemainingTimeInMillis: () => 60_000 }
    const dispatched = await invoke('poller', fixture('scheduled-event.json'), scheduled)
    expect(dispatched).toEqual({ parts: 2, runs: [] })
    // Two messages on the real (moto) queue, together naming every shard once.
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
    )
    const messages = received.Messages ?? []
    expect(messages).toHaveLength(2)
    const shards = messages
      .flatMap((message) => (JSON.parse(message.Body as string) as { shards: number[] }).shards)
      .sort((a, b) => a - b)
    expect(shards).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    // Each part as the event source mapping would invoke the worker with it.
    for (const message of messages) {
      const answer = await invoke('pollerWorker', sqsEvent(message), context)
      expect(answer).toEqual({ batchItemFailures: [] })
    }
    const runs = stdoutLines.filter((line) => line.msg === 'poller run finished')
    expect(runs.map((line) => line.shards)).toHaveLength(2)
    expect(runs.reduce((sum, line) => sum + Number(line.rounds), 0)).toBeGreaterThan(0)
    // A part delivered again after its run is dropped, not worked, and not reported failed.
    const late = sqsEvent({
      ...messages[0],
      Body: JSON.stringify({ shards: [0], notAfter: Date.now() - 1 }),
    })
    expect(await invoke('pollerWorker', late, context)).toEqual({ batchItemFailures: [] })
    expect(stdoutLines.filter((line) => line.msg === 'poller run finished')).toHaveLength(2)
    const read = await invoke(
      'api',
      httpEvent('function-url.json', 'GET', `/tasks/${taskId}`, {
        headers: { authorization: `Bearer ${tenantKey}` },
      }),
    )
    expect(parse(read)).toMatchObject({ status: 'succeeded', callback: { state: 'delivered' } })
    expect(receiver.received.map((request) => request.id)).toContain(`msg_${taskId}`)
    // The run's metrics: what finished, the callback, and the due backlog it began with.
    expect(emf('TasksFinished')).toContainEqual(
      expect.objectContaining({ Status: 'succeeded', TasksFinished: 1 }),
    )
    expect(emf('CallbackAttempts')).toContainEqual(
      expect.objectContaining({ Outcome: 'delivered', CallbackAttempts: expect.any(Number) }),
    )
    const backlog = emf('DueBacklog').at(-1) as Record<string, number>
    expect(backlog.DueBacklog).toBeGreaterThanOrEqual(1)
    const age = emf('OldestDueAgeSeconds').at(-1) as Record<string, unknown>
    const directives = (age._aws as { CloudWatchMetrics: { Metrics: unknown[] }[] })
      .CloudWatchMetrics
    expect(directives[0]?.Metrics).toContainEqual({ Name: 'OldestDueAgeSeconds', Unit: 'Seconds' })
    expect(age.OldestDueAgeSeconds).toBeGreaterThanOrEqual(0)
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
    // The domain is on Alibaba Cloud DNS already: applying that changes nothing.
    emulator.account.nameServers.set('drift-bundle.example.com', [
      'dns1.hichina.com',
      'dns2.hichina.com',
    ])
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
    const callers = ['api', 'poller', 'pollerWorker', 'sync', 'drift'] as const
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
    for (const fn of ['api', 'poller', 'pollerWorker', 'sync', 'drift']) {
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

  it('traces every function, sends failed scheduled runs to a queue and logs HTTP API access', () => {
    const resources = template.Resources
    for (const fn of ['Api', 'Poller', 'PollerWorker', 'Sync', 'Drift']) {
      expect(resources[`${fn}LambdaFunction`]?.Properties.TracingConfig).toEqual({ Mode: 'Active' })
      const lambda = resources[`${fn}LambdaFunction`]
      if (!lambda) throw new Error(`no function ${fn}`)
      const role = (lambda.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0]
      expect(JSON.stringify(resources[role]?.Properties.ManagedPolicyArns)).toContain(
        'AWSXRayDaemonWriteAccess',
      )
    }
    expect(resources.FailedRunsQueue?.Type).toBe('AWS::SQS::Queue')
    for (const fn of ['Poller', 'Sync', 'Drift']) {
      const config = resources[`${fn}LambdaEvConf`]?.Properties as {
        DestinationConfig: { OnFailure: { Destination: unknown } }
      }
      expect(config.DestinationConfig.OnFailure.Destination).toEqual({
        'Fn::GetAtt': ['FailedRunsQueue', 'Arn'],
      })
      // ...and its role may send there, and only there.
      const send = statementsOf(fn.toLowerCase()).filter((statement) =>
        statement.Action.includes('sqs:SendMessage'),
      )
      expect(send.map((statement) => statement.Resource)).toEqual([
        { 'Fn::GetAtt': ['FailedRunsQueue', 'Arn'] },
        // The scheduled poller also hands its shards to the workers' queue.
        ...(fn === 'Poller' ? [{ 'Fn::GetAtt': ['PollerShardsQueue', 'Arn'] }] : []),
      ])
    }
    const stage = resources.HttpApiStage?.Properties as {
      AccessLogSettings: { DestinationArn: unknown; Format: string }
    }
    expect(stage.AccessLogSettings.DestinationArn).toEqual({
      'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'],
    })
    expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
    })
  })

  it("fans the poller out: the schedule names the workers' queue, the workers consume it one part at a time, at most pollerWorkers at once", () => {
    const resources = template.Resources
    const queue = resources.PollerShardsQueue?.Properties as Record<string, unknown>
    // A part is worthless after its minute; a worker's 70 s fit well inside the visibility timeout.
    expect(queue).toMatchObject({ MessageRetentionPeriod: 300, VisibilityTimeout: 420 })
    const environment = (
      resources.PollerLambdaFunction?.Properties.Environment as
        | { Variables: Record<string, unknown> }
        | undefined
    )?.Variables
    expect(environment).toBeDefined()
    expect(environment?.POLLER_QUEUE_URL).toEqual({ Ref: 'PollerShardsQueue' })
    expect(environment?.POLLER_WORKERS).toBe('4')
    const worker = resources.PollerWorkerLambdaFunction?.Properties as Record<string, unknown>
    expect(worker.Handler).toBe('index.worker')
    expect(worker.Timeout).toBe(70)
    const mappings = Object.values(resources).filter(
      (resource) => resource.Type === 'AWS::Lambda::EventSourceMapping',
    )
    expect(mappings).toHaveLength(1)
    expect(mappings[0]?.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['PollerShardsQueue', 'Arn'] },
      FunctionName: { 'Fn::GetAtt': ['PollerWorkerLambdaFunction', 'Arn'] },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 4 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    })
    const take = statementsOf('pollerWorker').find((statement) =>
      statement.Action.includes('sqs:ReceiveMessage'),
    )
    expect(take?.Resource).toEqual({ 'Fn::GetAtt': ['PollerShardsQueue', 'Arn'] })
    expect(take?.Action).toEqual([
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
    ])
  })

  it('alarms on function errors and throttles, the oldest due item, exhausted callbacks, the upstream error rate and API 5xx, to the topic given', () => {
    const alarms = Object.entries(template.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm',
    )
    const byName = new Map(alarms.map(([name, resource]) => [name, resource.Properties]))
    const metricOf = (name: string) => {
      const alarm = byName.get(name) as Record<string, unknown>
      expect(alarm, name).toBeDefined()
      return `${alarm.Namespace}/${alarm.MetricName}`
    }
    for (const fn of ['Api', 'Poller', 'PollerWorker', 'Sync', 'Drift']) {
      expect(metricOf(`${fn}ErrorsAlarm`)).toBe('AWS/Lambda/Errors')
    }
    expect(JSON.stringify(byName.get('ThrottlesAlarm'))).toContain('"MetricName":"Throttles"')
    expect(metricOf('OldestDueAlarm')).toBe('DomainGateway/OldestDueAgeSeconds')
    expect(byName.get('OldestDueAlarm')).toMatchObject({ TreatMissingData: 'breaching' })
    expect(metricOf('CallbacksExhaustedAlarm')).toBe('DomainGateway/CallbacksExhausted')
    const rate = JSON.stringify(byName.get('UpstreamErrorRateAlarm'))
    expect(rate).toContain('UpstreamErrors')
    expect(rate).toContain('UpstreamCalls')
    expect(metricOf('Api5xxAlarm')).toBe('AWS/ApiGateway/5xx')
    // The metric names the alarms watch are the ones the code emits.
    for (const [, resource] of alarms) {
      const text = JSON.stringify(resource.Properties)
      for (const match of text.matchAll(
        /"Namespace":"DomainGateway","MetricName":"(\w+)"|"MetricName":"(\w+)","Dimensions":\[\{"Name":"Service"/g,
      )) {
        expect(METRIC_NAMES).toContain(match[1] ?? match[2])
      }
    }
    for (const [name, resource] of alarms) {
      expect(resource.Properties.AlarmActions, name).toEqual({
        'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }],
      })
    }
    const dashboard = template.Resources.Dashboard?.Properties.DashboardBody as {
      'Fn::Sub': [string, Record<string, unknown>]
    }
    const body = JSON.parse(dashboard['Fn::Sub'][0].replace(/\$\{[^}]+\}/g, 'x')) as {
      widgets: { properties: { title: string } }[]
    }
    expect(body.widgets.map((widget) => widget.properties.title)).toEqual(
      expect.arrayContaining(['Alarms', 'Tasks', 'Callback attempts by outcome', 'HTTP API']),
    )
    for (const name of byName.keys())
      expect(dashboard['Fn::Sub'][1]).toHaveProperty(name.replace(/Alarm$/, ''))
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
