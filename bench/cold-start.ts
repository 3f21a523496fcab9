import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildAllFunctions, buildFunction, startupOutputs } from '#infra/build/build-functions.ts'
import { fmt, header, median, table, verdict } from './lib.ts'

/**
 * Cold start: the time to import each built bundle in a fresh Node process (module scope and
 * top-level await included), against a bare Hono + DynamoDB bundle built the same way, all in
 * this run. Also bundle and zip sizes, and what each dependency adds to the API bundle.
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

function importMs(bundle: string): number {
  const url = pathToFileURL(resolve(bundle)).href
  const script = `const t = performance.now(); await import(${JSON.stringify(url)}); process.stdout.write(String(performance.now() - t))`
  return Number(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { env }).toString(),
  )
}

const built = await buildAllFunctions()
const baseline = await buildFunction('bench/fixtures/baseline-handler.ts', 'baseline', 'dist-bench')
const all = [baseline, ...built]
const times = new Map(all.map((fn) => [fn.name, [] as number[]]))
for (let run = 0; run < RUNS; run++) {
  // Interleaved, so drift on a noisy machine hits every bundle alike.
  for (const fn of all) times.get(fn.name)?.push(importMs(fn.bundle))
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
