import type { AddressInfo } from 'node:net'
import { PutCommand } from '@aws-sdk/lib-dynamodb'
import { serve } from '@hono/node-server'
import { createApp } from '#functions/api/app.ts'
import { buildApiDeps } from '#functions/api/deps.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { ensureTable, startLocalDynamoDb } from '#infra/local/dynamodb-local.ts'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { createDocumentClient } from '#shared/store/dynamodb.ts'
import { startRecordingProxy } from '../test/helpers/recording-proxy.ts'
import { fmt, header, percentile, table, UNSERVED_DOMAINS, verdict } from './lib.ts'

/**
 * Gateway overhead: `POST /domains/:name/ds` through the whole gateway (HTTP, auth, validation,
 * intent write (with a key, also its claim), the domain taken, the upstream call, the outcome and
 * TaskNo owner writes) against the bare
 * upstream call, with the emulator adding 20 ms to every answer. Sequential requests. Then the store
 * requests one accepted submission makes (with and without an Idempotency-Key), counted by a
 * recording proxy in front of the same engine on a second instance of the API.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200)
const credential = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' }
const db = await startLocalDynamoDb()
const emulator = await startEmulator({
  credentials: [credential],
  account: { taskMs: 60_000 },
  faults: [{ kind: 'latency', ms: 20 }],
})
const env = {
  TABLE_NAME: 'bench-overhead',
  DYNAMODB_ENDPOINT: db.endpoint,
  AWS_REGION: 'local',
  ALIYUN_ENDPOINT: emulator.url,
  ...UNSERVED_DOMAINS,
  ALIYUN_ACCESS_KEY_ID: credential.accessKeyId,
  ALIYUN_ACCESS_KEY_SECRET: credential.accessKeySecret,
}
await ensureTable(db.endpoint, env.TABLE_NAME)
const deps = buildApiDeps(loadSettings(env), { logger: silentLogger })
const { key } = await createApiKey(deps, { tenant: 'bench', scopes: ['ds:write'] })
const server = serve({ fetch: createApp(deps).fetch, port: 0, hostname: '127.0.0.1' })
await new Promise((resolve) => server.once('listening', resolve))
const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
const bare = new DomainApiClient({ config: loadSettings(env).upstream })
const record = {
  keyTag: 2371,
  algorithm: 13,
  digestType: 2,
  digest: 'f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598',
}

async function timed(
  run: (i: number) => Promise<void>,
  count: number,
  offset: number,
): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    await run(offset + i)
    times.push(performance.now() - started)
  }
  return times
}
const viaGateway = async (i: number) => {
  const response = await fetch(`${api}/domains/gw-${i}.example.com/ds`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'idempotency-key': `k-${i}`,
    },
    body: JSON.stringify(record),
  })
  if (response.status !== 202) throw new Error(`gateway answered ${response.status}`)
  await response.arrayBuffer()
}
const direct = async (i: number) => {
  await bare.addDsRecord({ domainName: `bare-${i}.example.com`, ...record })
}

await timed(viaGateway, 30, 1_000_000)
await timed(direct, 30, 1_000_000)
// Interleaved halves, so drift affects both alike.
const gateway: number[] = []
const baseline: number[] = []
for (let round = 0; round < 4; round++) {
  baseline.push(...(await timed(direct, REQUESTS / 4, round * REQUESTS)))
  gateway.push(...(await timed(viaGateway, REQUESTS / 4, round * REQUESTS)))
}
// The cost of one store round trip here, to explain the difference: a read, and a conditional
// write like the intent and the outcome (the two writes a submission cannot do without).
const storeTimes = await timed(
  async () => {
    await deps.apiKeys.get('nonexistent000000')
  },
  100,
  0,
)
const documents = createDocumentClient(loadSettings(env).store)
const writeTimes = await timed(
  async (i) => {
    await documents.send(
      new PutCommand({
        TableName: env.TABLE_NAME,
        Item: { pk: `BENCH#${i}`, sk: 'BENCH', version: 1, note: 'x'.repeat(600) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    )
  },
  100,
  0,
)

// Store requests per accepted submission, on an instance whose store calls go through a proxy
// that records them (after one request, so the caller's key is cached as on a warm instance).
const proxy = await startRecordingProxy(db.endpoint)
const proxied = { ...env, DYNAMODB_ENDPOINT: proxy.endpoint }
const counted = createApp(buildApiDeps(loadSettings(proxied), { logger: silentLogger }))
const countedSubmit = async (i: number, keyed: boolean) => {
  const response = await counted.request(`/domains/count-${keyed}-${i}.example.com/ds`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      ...(keyed ? { 'idempotency-key': `count-${i}` } : {}),
    },
    body: JSON.stringify(record),
  })
  if (response.status !== 202) throw new Error(`gateway answered ${response.status}`)
}
await countedSubmit(-1, false)
const COUNTED = 20
const perSubmission = new Map<boolean, Map<string, number>>()
for (const keyed of [true, false]) {
  const before = proxy.operations.length
  for (let i = 0; i < COUNTED; i++) await countedSubmit(i, keyed)
  const byOperation = new Map<string, number>()
  for (const { operation } of proxy.operations.slice(before)) {
    byOperation.set(operation, (byOperation.get(operation) ?? 0) + 1 / COUNTED)
  }
  perSubmission.set(keyed, byOperation)
}
await proxy.close()
server.close()
await emulator.close()
await db.close()

const p50 = percentile(gateway, 50) / percentile(baseline, 50)
header('Gateway overhead')
console.log(
  `${REQUESTS} sequential \`POST /domains/:name/ds\` vs the same number of bare signed upstream calls; the emulator adds 20 ms to every answer.\n`,
)
table([
  ['path', 'p50 ms', 'p90 ms', 'p99 ms'],
  [
    'bare upstream call (baseline)',
    fmt(percentile(baseline, 50)),
    fmt(percentile(baseline, 90)),
    fmt(percentile(baseline, 99)),
  ],
  [
    'through the gateway',
    fmt(percentile(gateway, 50)),
    fmt(percentile(gateway, 90)),
    fmt(percentile(gateway, 99)),
  ],
  [
    'one DynamoDB GetItem (embedded engine)',
    fmt(percentile(storeTimes, 50)),
    fmt(percentile(storeTimes, 90)),
    fmt(percentile(storeTimes, 99)),
  ],
  [
    'one conditional PutItem (embedded engine)',
    fmt(percentile(writeTimes, 50)),
    fmt(percentile(writeTimes, 90)),
    fmt(percentile(writeTimes, 99)),
  ],
])
const overhead = percentile(gateway, 50) - percentile(baseline, 50)
const twoWrites = 2 * percentile(writeTimes, 50)
console.log('')
table([
  ['figure', 'value', 'target', ''],
  ['gateway p50 / bare p50', fmt(p50, 2), '≤ 1.25', verdict(p50 <= 1.25)],
  [
    'overhead p50 − two conditional writes (ms)',
    `${fmt(overhead, 1)} − ${fmt(twoWrites, 1)} = ${fmt(overhead - twoWrites, 1)}`,
    '≤ 2',
    verdict(overhead - twoWrites <= 2),
  ],
])
console.log('\nStore requests per accepted submission (warm instance, domain free):\n')
table([
  ['request', 'store requests', 'target', 'by operation'],
  ...[true, false].map((keyed) => {
    const byOperation = perSubmission.get(keyed) ?? new Map<string, number>()
    const total = [...byOperation.values()].reduce((sum, n) => sum + n, 0)
    return [
      keyed ? 'with Idempotency-Key' : 'without',
      fmt(total, 2),
      '≤ 3',
      `${verdict(total <= 3.001)}: ${[...byOperation.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([operation, n]) => `${operation} ${fmt(n, 2)}`)
        .join(', ')}`,
    ]
  }),
])
process.exit(0)
