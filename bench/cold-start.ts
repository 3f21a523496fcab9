import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildAllFunctions, buildFunction, startupOutputs } from '#infra/build/build-functions.ts'
import { fmt, header, median, table, verdict } from './lib.ts'

/**
 * Cold start: the time to import each built bundle in a fresh Node process (module scope and
 * top-level await included), against a bare Hono + DynamoDB bundle built the same way, all in
 * this run. The API loads a route group's module when one of its routes is first called, so it is
 * also measured to the end of its first answer (a request the access check refuses, 401, which
 * loads the submitting routes' group but calls no store), against the baseline's first answer
 * (a 404, which calls no store either). Also bundle and zip sizes, and what each dependency adds
 * to what the API loads at start.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 15)
const env = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ALIYUN_ACCESS_KEY_ID: 'bench',
  ALIYUN_ACCESS_KEY_SECRET: 'bench',
  TABLE_NAME: 'bench-table',
}

function importMs(bundle: string, firstRequest?: { path: string; method: string }): number {
  const url = pathToFileURL(resolve(bundle)).href
  const event = firstRequest && JSON.stringify(httpEvent(firstRequest.method, firstRequest.path))
  const script = event
    ? `const t = performance.now(); const { handler } = await import(${JSON.stringify(url)}); const answer = await handler(${event}, { awsRequestId: 'bench' }); const ms = performance.now() - t; if (answer.statusCode !== ${firstRequest?.path === API_FIRST.path ? 401 : 404}) throw new Error('first request answered ' + answer.statusCode); process.stdout.write('\\nms=' + ms)`
    : `const t = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write('\\nms=' + (performance.now() - t))`
  // (The API logs its request to stdout too; the figure is the last line.)
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env })
  return Number(/\nms=([\d.]+)$/.exec(out.toString())?.[1])
}

/** An API Gateway HTTP API (payload 2.0) request with no body and no key. */
function httpEvent(method: string, path: string) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'bench.execute-api.us-east-1.amazonaws.com', accept: 'application/json' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'bench' },
      requestId: 'bench',
      routeKey: '$default',
      stage: '$default',
      time: '07/Dec/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
  }
}

const API_FIRST = { method: 'POST', path: '/domains/example.com/ds' }
const BASELINE_FIRST = { method: 'GET', path: '/nothing-here' }

const built = await buildAllFunctions()
const baseline = await buildFunction('bench/fixtures/baseline-handler.ts', 'baseline', 'dist-bench')
const all = [baseline, ...built]
const times = new Map(all.map((fn) => [fn.name, [] as number[]]))
const firstAnswers = { baseline: [] as number[], api: [] as number[] }
const apiBundle = built.find((fn) => fn.name === 'api')?.bundle as string
for (let run = 0; run < RUNS; run++) {
  // Interleaved, so drift on a noisy machine hits every bundle alike.
  for (const fn of all) times.get(fn.name)?.push(importMs(fn.bundle))
  firstAnswers.baseline.push(importMs(baseline.bundle, BASELINE_FIRST))
  firstAnswers.api.push(importMs(apiBundle, API_FIRST))
}
const base = median(times.get('baseline') ?? [])

header('Cold start and bundle size')
console.log(
  `Median of ${RUNS} fresh \`node\` processes importing each bundle; target ≤ 1.5× the baseline.\n`,
)
table([
  ['bundle', 'import ms (median)', '× baseline', 'target', 'loaded at start KiB', 'zip KiB'],
  ...all.map((fn) => {
    const ms = median(times.get(fn.name) ?? [])
    return [
      fn.name === 'baseline' ? 'baseline (Hono + DynamoDB)' : fn.name,
      fmt(ms),
      fmt(ms / base, 2),
      fn.name === 'baseline' ? '—' : verdict(ms / base <= 1.5),
      fmt(fn.bundleBytes / 1024),
      fmt(fn.zipBytes / 1024),
    ]
  }),
])

const firstBase = median(firstAnswers.baseline)
const firstApi = median(firstAnswers.api)
console.log('\nTo the end of the first answer (import, then one request that calls no store):\n')
table([
  ['bundle', 'first request', 'ms (median)', '× baseline'],
  [
    'baseline (Hono + DynamoDB)',
    `${BASELINE_FIRST.method} ${BASELINE_FIRST.path} → 404`,
    fmt(firstBase),
    fmt(1, 2),
  ],
  [
    'api',
    `${API_FIRST.method} ${API_FIRST.path} → 401`,
    fmt(firstApi),
    fmt(firstApi / firstBase, 2),
  ],
])

const api = built.find((fn) => fn.name === 'api')
if (api) {
  const byPackage = new Map<string, number>()
  for (const [, output] of startupOutputs(api.metafile)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
      const name = match ? (match[1] as string) : '(project code)'
      byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput)
    }
  }
  const rows = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)
  console.log('\nWhat each dependency adds to what the API loads at start (minified bytes):\n')
  table([
    ['package', 'KiB', 'share'],
    ...rows.map(([name, bytes]) => [
      name,
      fmt(bytes / 1024),
      `${fmt((100 * bytes) / api.bundleBytes, 0)} %`,
    ]),
  ])
}
