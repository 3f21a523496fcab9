import { startHarness } from '../test/helpers/gateway.ts'
import { startRecordingProxy } from '../test/helpers/recording-proxy.ts'
import { fmt, header, table, UNSERVED_DOMAINS } from './lib.ts'

/**
 * What a desired-state `PUT /domains/{name}/ds` costs the store, accepted and refused: the
 * requests of one call, by operation, counted through a recording proxy in front of the engine.
 * An accepted change of one add (the first step sent at once, its domain free); a change refused
 * because another tenant manages the domain (409); one refused because the domain's queue is full
 * (429). Counts, not times: the same on any machine.
 */
const RUNS = Number(process.env.BENCH_CHANGE_RUNS ?? 20)
const h = await startHarness({ env: { QUEUE_MAX_PER_TARGET: '2', QUEUE_MAX_PER_TENANT: '2' } })
const proxy = await startRecordingProxy(h.env.DYNAMODB_ENDPOINT as string)
const proxied = await startHarness({
  env: {
    TABLE_NAME: h.env.TABLE_NAME as string,
    DYNAMODB_ENDPOINT: proxy.endpoint,
    ALIYUN_ENDPOINT: h.emulator.url,
    ...UNSERVED_DOMAINS,
    API_KEY_CACHE_SECONDS: '300',
    QUEUE_MAX_PER_TARGET: '2',
    QUEUE_MAX_PER_TENANT: '2',
  },
})
const other = await proxied.newKey('other', ['ds:write', 'sync:write', 'tasks:read'])
const record = (keyTag: number) => ({
  keyTag,
  algorithm: 13,
  digestType: 2,
  digest: keyTag.toString(16).padStart(64, '0'),
})

async function counted(path: string, body: unknown, key?: string) {
  const before = proxy.operations.length
  const response = await proxied.request(path, {
    method: 'PUT',
    body: JSON.stringify(body),
    ...(key ? { key } : {}),
  })
  await response.arrayBuffer()
  return { status: response.status, operations: proxy.operations.slice(before) }
}

type Tally = { runs: number; statuses: Set<number>; byOperation: Map<string, number> }
const tallies = new Map<string, Tally>()
function add(kind: string, result: Awaited<ReturnType<typeof counted>>) {
  const tally = tallies.get(kind) ?? { runs: 0, statuses: new Set(), byOperation: new Map() }
  tally.runs++
  tally.statuses.add(result.status)
  for (const { operation } of result.operations)
    tally.byOperation.set(operation, (tally.byOperation.get(operation) ?? 0) + 1)
  tallies.set(kind, tally)
}

// Warm-up: both keys read once, then served from the instance's cache.
await counted('/domains/warm-up.com/ds?dryRun=true', { records: [record(1)] })
await counted('/domains/warm-up.com/ds?dryRun=true', { records: [record(1)] }, other.key)
for (let i = 0; i < RUNS; i++) {
  add(
    'accepted (one add, sent at once)',
    await counted(`/domains/put-${i}.com/ds`, { records: [record(i + 1)] }),
  )
  add(
    'refused: another tenant manages the domain (409)',
    await counted(`/domains/put-${i}.com/ds`, { records: [record(i + 2)] }, other.key),
  )
  // The queue of a busy domain is full: its holder and two waiting tasks.
  const busy = `full-${i}.com`
  for (let n = 0; n < 3; n++) {
    await proxied.request(`/domains/${busy}/ds/sync`, { method: 'POST', key: other.key })
  }
  add(
    'refused: the queue is full (429)',
    await counted(`/domains/${busy}/ds`, { records: [record(i + 3)] }),
  )
}
await proxied.close()
await proxy.close()
await h.close()

header('Desired-state PUT: store requests')
console.log(
  `Store requests of one \`PUT /domains/{name}/ds\` call, ${RUNS} calls each, counted through a recording proxy (the API key served from the instance's cache).\n`,
)
table([
  ['call', 'status', 'store requests / call', 'by operation / call'],
  ...[...tallies.entries()].map(([kind, tally]) => {
    const total = [...tally.byOperation.values()].reduce((sum, count) => sum + count, 0)
    return [
      kind,
      [...tally.statuses].join(', '),
      fmt(total / tally.runs, 1),
      [...tally.byOperation.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([operation, count]) => `${operation} ${fmt(count / tally.runs, 1)}`)
        .join(', '),
    ]
  }),
])
process.exit(0)
