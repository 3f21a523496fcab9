import { createApp } from '#functions/api/app.ts'
import { buildApiDeps } from '#functions/api/deps.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { ensureTable, startLocalDynamoDb } from '#infra/local/dynamodb-local.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { startRecordingProxy } from '../test/helpers/recording-proxy.ts'
import { fmt, header, percentile, table, UNSERVED_DOMAINS } from './lib.ts'

/**
 * What per-tenant rate limits cost a request: `GET /tasks?limit=1` (one store query) on an API
 * instance whose limits count every request (high enough never to refuse) against one with them
 * off (0), interleaved in the same run; and the store requests the counting adds per 1 000
 * requests, recorded by a proxy. Limits are leased ~2 % at a time, so most requests pay nothing.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000)
const credential = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' }
const db = await startLocalDynamoDb()
const emulator = await startEmulator({ credentials: [credential], account: { taskMs: 60_000 } })
const base = {
  TABLE_NAME: 'bench-rate',
  AWS_REGION: 'local',
  ALIYUN_ENDPOINT: emulator.url,
  ...UNSERVED_DOMAINS,
  ALIYUN_ACCESS_KEY_ID: credential.accessKeyId,
  ALIYUN_ACCESS_KEY_SECRET: credential.accessKeySecret,
}
await ensureTable(db.endpoint, base.TABLE_NAME)
const proxy = await startRecordingProxy(db.endpoint)
const instance = (endpoint: string, readsPerMinute: string) => {
  const env = { ...base, DYNAMODB_ENDPOINT: endpoint, RATE_LIMIT_READS_PER_MINUTE: readsPerMinute }
  const deps = buildApiDeps(loadSettings(env), { logger: silentLogger })
  return { deps, app: createApp(deps) }
}
// The default reads limit (3 000 a minute): not reached here, so every request is counted and
// none refused.
const LIMIT = 3_000
const limited = instance(proxy.endpoint, String(LIMIT))
const open = instance(db.endpoint, '0')
const { key } = await createApiKey(open.deps, { tenant: 'bench', scopes: ['tasks:read'] })

const read = async (app: ReturnType<typeof createApp>) => {
  const started = performance.now()
  const response = await app.request('/tasks?limit=1', {
    headers: { authorization: `Bearer ${key}` },
  })
  if (response.status !== 200) throw new Error(`answered ${response.status}`)
  await response.arrayBuffer()
  return performance.now() - started
}
for (let i = 0; i < 50; i++) {
  await read(limited.app)
  await read(open.app)
}
const on: number[] = []
const off: number[] = []
const before = proxy.operations.length
for (let round = 0; round < 4; round++) {
  for (let i = 0; i < REQUESTS / 4; i++) off.push(await read(open.app))
  for (let i = 0; i < REQUESTS / 4; i++) on.push(await read(limited.app))
}
const operations = proxy.operations.slice(before)
const counting = operations.filter((operation) => operation.operation === 'UpdateItem').length

header('Per-tenant rate limits: cost per request')
table([
  ['', 'p50 ms', 'p95 ms', 'ratio p50'],
  ['limits off (baseline)', fmt(percentile(off, 50), 2), fmt(percentile(off, 95), 2), '1.00'],
  [
    'limits counted',
    fmt(percentile(on, 50), 2),
    fmt(percentile(on, 95), 2),
    fmt(percentile(on, 50) / percentile(off, 50), 2),
  ],
])
console.log(
  `\nStore requests that counted the limit: ${counting} for ${REQUESTS} requests (${fmt((counting / REQUESTS) * 1000, 0)} per 1 000; the lease is ${Math.floor(LIMIT / 50)} tokens).`,
)
await proxy.close()
await emulator.close()
await db.close()
