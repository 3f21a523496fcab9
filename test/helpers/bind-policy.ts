import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { queryServer } from '#shared/dns/dns-client.ts'

/**
 * BIND 9 managing its own keys: `dnssec-policy` signs the zone, rolls the KSK when its lifetime
 * ends, publishes CDS/CDNSKEY, and asks its `parental-agents` (the emulator's parent zone) whether
 * the parent serves the DS — the operator's set-up in docs/desired-state-and-dnssec.md, with
 * seconds for its lifetimes and TTLs. Nothing of the rollover is driven by the test.
 */
export class BindPolicyZone {
  readonly dir = mkdtempSync(join(tmpdir(), 'dg-bind-policy-'))
  #process: ChildProcess | undefined
  output = ''

  constructor(
    readonly zone: string,
    readonly port: number,
    readonly parentPort: number,
    /** The `dnssec-policy` and `zone` statements, as the operator's guide prints them. */
    readonly policy: string,
  ) {}

  async start(): Promise<void> {
    writeFileSync(
      join(this.dir, 'zone.db'),
      [
        '$TTL 2',
        `@ IN SOA ns1.${this.zone}. hostmaster.${this.zone}. 1 3600 600 86400 2`,
        `@ IN NS ns1.${this.zone}.`,
        'ns1 IN A 127.0.0.1',
        'www IN A 192.0.2.1',
        '',
      ].join('\n'),
    )
    const conf = join(this.dir, 'named.conf')
    writeFileSync(
      conf,
      `options {
  directory "${this.dir}";
  pid-file "${join(this.dir, 'named.pid')}";
  listen-on port ${this.port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
};
${this.policy
  .replaceAll('<ZONE>', this.zone)
  .replaceAll('<ZONE FILE>', join(this.dir, 'zone.db'))
  .replaceAll('<PARENT>', `127.0.0.1 port ${this.parentPort}`)}
`,
    )
    const child = spawn('named', ['-g', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000)
    })
    this.#process = child
    const deadline = Date.now() + 15_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`named exited: ${this.output.slice(-2000)}`)
      try {
        const answer = await queryServer(
          { host: '127.0.0.1', port: this.port },
          this.zone,
          'DNSKEY',
          {
            timeoutMs: 300,
          },
        )
        if (answer.records.length > 0) return
      } catch {
        // Not answering yet.
      }
      if (Date.now() > deadline) throw new Error(`named did not sign: ${this.output.slice(-2000)}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  async close(): Promise<void> {
    const child = this.#process
    this.#process = undefined
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}
