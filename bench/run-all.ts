import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'

/** `npm run bench`: every benchmark in its own process, one after another; output also saved. */
const BENCHES = [
  'upstream-client',
  'gateway-overhead',
  'preflight',
  'cold-start',
  'poller-drain',
  'poller-fan-out',
  'due-sweep',
  'cost',
  'change-requests',
  'rate-limits',
  'queue',
  'crash-recovery',
  'store-faults',
  'webhooks',
  'memory',
]
const only = process.argv.slice(2)
let output = ''
for (const name of BENCHES.filter((bench) => only.length === 0 || only.includes(bench))) {
  const text = execFileSync('npx', ['tsx', `bench/${name}.ts`], {
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  })
  process.stdout.write(text)
  output += text
}
mkdirSync('bench/results', { recursive: true })
writeFileSync('bench/results/latest.md', output)
