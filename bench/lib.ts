import os from 'node:os'

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`
}

export function header(title: string): void {
  console.log(`\n## ${title}\n\n_${new Date().toISOString().slice(0, 10)} · ${machine()}_\n`)
}

export function table(rows: readonly (readonly (string | number)[])[]): void {
  const [head, ...body] = rows
  if (!head) return
  console.log(`| ${head.join(' | ')} |`)
  console.log(`|${head.map(() => '---').join('|')}|`)
  for (const row of body) console.log(`| ${row.join(' | ')} |`)
}

export const fmt = (value: number, digits = 1) => value.toFixed(digits)
export const verdict = (ok: boolean) => (ok ? 'met' : '**missed**')

/**
 * The benches' domains are served nowhere: their pre-flight checks are `unverified` and carried
 * out with the verdict recorded (as under `npm start`), and no resolver outside is asked.
 */
export const UNSERVED_DOMAINS = {
  DNS_LOOKUP: 'overrides',
  PREFLIGHT_UNVERIFIED: 'proceed',
} as const
