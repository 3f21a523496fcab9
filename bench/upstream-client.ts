import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { Pool, request } from 'undici'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { flattenParams } from '#shared/aliyun/rpc-params.ts'
import { formatRpcTimestamp, signRpcRequestV1 } from '#shared/aliyun/signature-v1.ts'
import { loadDomainApiSettings } from '#shared/composition/upstream-env.ts'
import { fmt, header, table, verdict } from './lib.ts'

/**
 * Upstream client cost: CPU time per request (from this process's own CPU accounting) and
 * requests/s at concurrency 1 and 32, against a fixed-response server in another process, for our
 * signed client, the official @alicloud/pop-core, and a raw undici POST of a pre-signed body (the
 * floor: no signing, no parsing).
 */
const require = createRequire(import.meta.url)
const RPCClient = require('@alicloud/pop-core').RPCClient
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000)

const server = spawn(process.execPath, ['bench/fixtures/fixed-server.mjs'], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const port = await new Promise<number>((resolve) =>
  server.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim()))),
)
const endpoint = `http://127.0.0.1:${port}`
const credentials = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' }

const ours = new DomainApiClient({
  config: loadDomainApiSettings({
    ALIYUN_ENDPOINT: endpoint,
    ALIYUN_ACCESS_KEY_ID: credentials.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: credentials.accessKeySecret,
    ALIYUN_MAX_CONNECTIONS: '32',
  }),
})
const popCore = new RPCClient({ endpoint, apiVersion: '2018-01-29', ...credentials })
const pool = new Pool(endpoint, { connections: 32 })
const signedBody = signRpcRequestV1({
  method: 'POST',
  action: 'SaveSingleTaskForSynchronizingDSRecord',
  version: '2018-01-29',
  params: flattenParams({ DomainName: 'example.com' }),
  credentials,
  nonce: 'fixed',
  timestamp: formatRpcTimestamp(Date.now()),
}).encoded

const clients: Record<string, () => Promise<unknown>> = {
  'raw undici (floor)': async () => {
    const response = await request(`${endpoint}/`, {
      method: 'POST',
      body: signedBody,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      dispatcher: pool,
    })
    return response.body.text()
  },
  'domain-gateway client': () => ours.syncDsRecord({ domainName: 'example.com' }),
  '@alicloud/pop-core': () =>
    popCore.request(
      'SaveSingleTaskForSynchronizingDSRecord',
      { DomainName: 'example.com' },
      { method: 'POST' },
    ),
}

async function measure(call: () => Promise<unknown>, concurrency: number, count: number) {
  let next = 0
  const run = async () => {
    while (next < count) {
      next++
      await call()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, run))
}

const results: Record<string, Record<number, { cpuUs: number; rps: number }>> = {}
for (const concurrency of [1, 32]) {
  for (const [name, call] of Object.entries(clients)) {
    await measure(call, concurrency, 300) // warm-up: JIT, connections
    const cpu = process.cpuUsage()
    const started = performance.now()
    await measure(call, concurrency, REQUESTS)
    const seconds = (performance.now() - started) / 1000
    const used = process.cpuUsage(cpu)
    results[name] ??= {}
    ;(results[name] as Record<number, { cpuUs: number; rps: number }>)[concurrency] = {
      cpuUs: (used.user + used.system) / REQUESTS,
      rps: REQUESTS / seconds,
    }
  }
}
server.kill()
await pool.close()

const ourResult = results['domain-gateway client'] as Record<number, { cpuUs: number; rps: number }>
const pop = results['@alicloud/pop-core'] as Record<number, { cpuUs: number; rps: number }>
const floor = results['raw undici (floor)'] as Record<number, { cpuUs: number; rps: number }>
header('Upstream client')
console.log(
  `${REQUESTS} signed POSTs per client and concurrency, after 300 warm-up requests; server in another process.\n`,
)
table([
  ['client', 'CPU µs/req (c=1)', 'req/s (c=1)', 'CPU µs/req (c=32)', 'req/s (c=32)'],
  ...Object.entries(results).map(([name, byConcurrency]) => [
    name,
    fmt(byConcurrency[1]?.cpuUs ?? 0, 0),
    fmt(byConcurrency[1]?.rps ?? 0, 0),
    fmt(byConcurrency[32]?.cpuUs ?? 0, 0),
    fmt(byConcurrency[32]?.rps ?? 0, 0),
  ]),
])
const cpuVsPop = (ourResult[32]?.cpuUs ?? 0) / (pop[32]?.cpuUs ?? 1)
const cpuVsFloor = (ourResult[32]?.cpuUs ?? 0) / (floor[32]?.cpuUs ?? 1)
const rpsVsPop = (ourResult[32]?.rps ?? 0) / (pop[32]?.rps ?? 1)
console.log('')
table([
  ['ratio (c=32)', 'value', 'target', ''],
  ['CPU per request vs pop-core', fmt(cpuVsPop, 2), '≤ 0.40', verdict(cpuVsPop <= 0.4)],
  ['CPU per request vs raw undici', fmt(cpuVsFloor, 2), '≤ 1.25', verdict(cpuVsFloor <= 1.25)],
  ['throughput vs pop-core', fmt(rpsVsPop, 2), '≥ 1.5', verdict(rpsVsPop >= 1.5)],
  [
    'CPU per request vs pop-core (c=1)',
    fmt((ourResult[1]?.cpuUs ?? 0) / (pop[1]?.cpuUs ?? 1), 2),
    '—',
    '',
  ],
])
