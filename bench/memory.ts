import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { buildApiDeps } from '#functions/api/deps.ts'
import { buildFunction } from '#infra/build/build-functions.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { ensureTable } from '#infra/local/dynamodb-local.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { fmt, header, table, UNSERVED_DOMAINS, verdict } from './lib.ts'
import { startStoreProcess } from './store-process.ts'

/** Memory: resident set of the API process idle, and its peak under a load of mixed requests. */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000)
const credential = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' }
const db = await startStoreProcess()
const emulator = await startEmulator({ credentials: [credential], account: { taskMs: 50 } })
const env = {
  ...process.env,
  TABLE_NAME: 'bench-memory',
  DYNAMODB_ENDPOINT: db.endpoint,
  AWS_REGION: 'local',
  ALIYUN_ENDPOINT: emulator.url,
  ...UNSERVED_DOMAINS,
  ALIYUN_ACCESS_KEY_ID: credential.accessKeyId,
  ALIYUN_ACCESS_KEY_SECRET: credential.accessKeySecret,
  LOG_LEVEL: 'warn',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
}
await ensureTable(db.endpoint, env.TABLE_NAME)
const { key } = await createApiKey(buildApiDeps(loadSettings(env), { logger: silentLogger }), {
  tenant: 'bench',
  scopes: ['ds:write', 'sync:write', 'tasks:read'],
})
const built = await buildFunction('bench/fixtures/api-server.ts', 'api-server', 'dist-bench')
// Sized like a 128 MB Lambda: V8's old space capped so the heap is collected before it grows.
const child = spawn(process.execPath, ['--max-old-space-size=96', built.bundle], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
})
const port = await new Promise<number>((resolve) =>
  child.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim()))),
)
const api = `http://127.0.0.1:${port}`
const status = (field: 'VmRSS' | 'VmHWM') => {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    readFileSync(`/proc/${child.pid}/status`, 'utf8'),
  )
  return Number(match?.[1] ?? 0) / 1024
}

await fetch(`${api}/tasks`, { headers: { authorization: `Bearer ${key}` } })
await new Promise((resolve) => setTimeout(resolve, 500))
const idle = status('VmRSS')
let next = 0
let limit = 0
const worker = async () => {
  while (next < limit) {
    const i = next++
    const path =
      i % 3 === 0
        ? '/tasks?limit=20'
        : `/domains/mem-${i}.example.com/ds${i % 3 === 1 ? '' : '/sync'}`
    const init: RequestInit =
      i % 3 === 1
        ? {
            method: 'POST',
            headers: {
              authorization: `Bearer ${key}`,
              'content-type': 'application/json',
              'idempotency-key': `m-${i}`,
            },
            body: JSON.stringify({
              keyTag: i % 65_536,
              algorithm: 13,
              digestType: 2,
              digest: 'a'.repeat(64),
            }),
          }
        : { method: i % 3 === 0 ? 'GET' : 'POST', headers: { authorization: `Bearer ${key}` } }
    await (await fetch(`${api}${path}`, init)).arrayBuffer()
  }
}
// As Lambda runs it: one request at a time per instance.
limit = REQUESTS / 2
await worker()
const peakSequential = status('VmHWM')
// As a long-running server would: 32 at a time.
limit = REQUESTS
await Promise.all(Array.from({ length: 32 }, worker))
const peak = status('VmHWM')
const after = status('VmRSS')
child.kill()
await emulator.close()
await db.close()

header('Memory')
table([
  ['API process', 'MiB', 'target', ''],
  ['resident, idle after start', fmt(idle), '—', ''],
  [
    `peak resident during ${REQUESTS / 2} requests one at a time (as on Lambda)`,
    fmt(peakSequential),
    '< 128 (smallest Lambda)',
    verdict(peakSequential < 128),
  ],
  [`peak resident during ${REQUESTS / 2} more, 32 at a time`, fmt(peak), '—', ''],
  ['resident after the load', fmt(after), '—', ''],
])
process.exit(0)
