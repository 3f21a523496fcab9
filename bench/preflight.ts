import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createApp } from '#functions/api/app.ts'
import { buildApiDeps } from '#functions/api/deps.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { startDemoZones } from '#infra/local/demo-zones.ts'
import { ensureTable, startLocalDynamoDb } from '#infra/local/dynamodb-local.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { fmt, header, percentile, table } from './lib.ts'

/**
 * The added latency of a checked submission: `POST /domains/:name/ds` with the zone's own key,
 * its pre-flight check asking the registry (`QueryDSRecord`) and the zone's server (DNSKEY over TCP
 * and UDP, signatures verified) — against the same request on the same gateway with the check
 * answering at once (no registry read, no server asked: the baseline, measured in the same run,
 * interleaved). The emulator adds 20 ms to every answer, as in the gateway-overhead bench; the
 * zones are signed ones served on loopback. Then the bound: a zone whose server never answers.
 */
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100)
const TIMEOUT_MS = 1_000
const credential = { accessKeyId: 'LTAIbench', accessKeySecret: 'bench-secret' }
const zonesNeeded = 2 * REQUESTS + 40
const zoneNames = Array.from({ length: zonesNeeded }, (_, i) => `preflight-${i}.com`)
const db = await startLocalDynamoDb()
const emulator = await startEmulator({
  credentials: [credential],
  account: { taskMs: 60_000 },
  faults: [{ kind: 'latency', ms: 20 }],
})
const demo = await startDemoZones(zoneNames)
const env = {
  TABLE_NAME: 'bench-preflight',
  DYNAMODB_ENDPOINT: db.endpoint,
  AWS_REGION: 'local',
  ALIYUN_ENDPOINT: emulator.url,
  ALIYUN_ACCESS_KEY_ID: credential.accessKeyId,
  ALIYUN_ACCESS_KEY_SECRET: credential.accessKeySecret,
  CALLBACK_ALLOW_LOOPBACK: 'true',
  DNS_LOOKUP: 'overrides',
  // A port nobody answers on, for the bound.
  DNS_SERVER_OVERRIDES: JSON.stringify({ ...demo.overrides, 'silent-zone.com': ['127.0.0.1:9'] }),
  PREFLIGHT_UNVERIFIED: 'proceed',
  PREFLIGHT_TIMEOUT_MS: String(TIMEOUT_MS),
}
await ensureTable(db.endpoint, env.TABLE_NAME)
const deps = buildApiDeps(loadSettings(env), { logger: silentLogger })
const { key } = await createApiKey(deps, { tenant: 'bench', scopes: ['ds:write'] })
// The baseline: the same gateway whose check finds no server and reads nothing (`unverified`,
// carried out under PREFLIGHT_UNVERIFIED=proceed) — the rest of the path is identical.
const unchecked = createApp({
  ...deps,
  preflight: { ...deps.preflight, registryDs: async () => [], serversOfZone: async () => [] },
})
const listen = async (fetch: Parameters<typeof serve>[0]['fetch']) => {
  const server = serve({ fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise((resolve) => server.once('listening', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}
const checkedApi = await listen(createApp(deps).fetch)
const uncheckedApi = await listen(unchecked.fetch)
const dnskeyOf = new Map(demo.zones.map((zone) => [zone.zone, zone.dnskey]))

let next = 0
async function submit(api: string, domain: string, expected: string): Promise<number> {
  const started = performance.now()
  const response = await fetch(`${api}/domains/${domain}/ds`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'idempotency-key': `k-${next++}`,
    },
    body: JSON.stringify({ dnskey: dnskeyOf.get(domain) ?? dnskeyOf.get(zoneNames[0] as string) }),
  })
  const body = (await response.json()) as { safety?: { verdict: string } }
  const took = performance.now() - started
  if (response.status !== 202 || body.safety?.verdict !== expected) {
    throw new Error(`${domain}: ${response.status} ${JSON.stringify(body).slice(0, 300)}`)
  }
  return took
}

let zone = 0
const take = () => zoneNames[zone++] as string
// Warm both paths.
for (let i = 0; i < 20; i++) {
  await submit(checkedApi.url, take(), 'safe')
  await submit(uncheckedApi.url, take(), 'unverified')
}
const checked: number[] = []
const baseline: number[] = []
for (let i = 0; i < REQUESTS; i++) {
  // Interleaved, so drift and a busy machine affect both alike.
  baseline.push(await submit(uncheckedApi.url, take(), 'unverified'))
  checked.push(await submit(checkedApi.url, take(), 'safe'))
}
const bounded: number[] = []
for (let i = 0; i < 5; i++)
  bounded.push(await submit(checkedApi.url, 'silent-zone.com', 'unverified'))

checkedApi.server.close()
uncheckedApi.server.close()
await demo.close()
await emulator.close()
await db.close()

header('Pre-flight check: the latency a checked submission adds')
console.log(
  `${REQUESTS} sequential \`POST /domains/:name/ds\` (the zone's own KSK, each to another signed zone served on loopback) with the check against the same request with the check answering at once, interleaved; the emulator adds 20 ms to every answer (the check's QueryDSRecord too). Then 5 to a zone whose server never answers (PREFLIGHT_TIMEOUT_MS=${TIMEOUT_MS}).\n`,
)
table([
  ['path', 'p50 ms', 'p90 ms', 'p99 ms'],
  [
    'check answering at once (baseline)',
    fmt(percentile(baseline, 50)),
    fmt(percentile(baseline, 90)),
    fmt(percentile(baseline, 99)),
  ],
  [
    'checked: QueryDSRecord + DNSKEY over TCP and UDP',
    fmt(percentile(checked, 50)),
    fmt(percentile(checked, 90)),
    fmt(percentile(checked, 99)),
  ],
  [
    'a zone whose server never answers (unverified)',
    fmt(percentile(bounded, 50)),
    fmt(percentile(bounded, 90)),
    fmt(Math.max(...bounded)),
  ],
])
console.log('')
table([
  ['figure', 'value'],
  ['checked p50 / baseline p50', fmt(percentile(checked, 50) / percentile(baseline, 50), 2)],
  ['added p50 (ms)', fmt(percentile(checked, 50) - percentile(baseline, 50))],
  ['slowest unanswered check / PREFLIGHT_TIMEOUT_MS', fmt(Math.max(...bounded) / TIMEOUT_MS, 2)],
])
