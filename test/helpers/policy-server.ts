import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitForServer } from './wait-for-server.ts'

/**
 * An authoritative server managing its own keys — BIND 9's `dnssec-policy` with
 * `parental-agents`, or Knot DNS's KASP with `ksk-submission` — signing a zone, rolling its KSK
 * when its lifetime ends, publishing CDS/CDNSKEY and asking the parent (the emulator's parent
 * zone) whether it serves the DS. Its configuration is the one the operator's guide prints
 * (`guideConfiguration`), with seconds for lifetimes and TTLs. Nothing of the rollover is driven
 * by the test.
 */
export type PolicyServerKind =
  | 'bind'
  | 'knot'
  | 'knot-multi-signer'
  | 'pdns'
  | 'bind-algorithm-8'
  | 'bind-algorithm-13'

const GUIDE = 'docs/desired-state-and-dnssec.md'
const HEADINGS: Record<PolicyServerKind, string> = {
  bind: '#### BIND 9.18 as the interoperability test runs it',
  knot: '#### Knot DNS 3.2 as the interoperability test runs it',
  'knot-multi-signer': '#### A multi-signer zone (RFC 8901 model 2) as the test runs it',
  pdns: '#### PowerDNS 4.7 as the interoperability test runs it',
  'bind-algorithm-8': '#### A BIND algorithm rollover as the test runs it',
  'bind-algorithm-13': '#### A BIND algorithm rollover as the test runs it',
}

/** Which block after the heading: an algorithm rollover's guide prints the before and the after. */
const BLOCK: Record<PolicyServerKind, number> = {
  bind: 0,
  knot: 0,
  'knot-multi-signer': 0,
  pdns: 0,
  'bind-algorithm-8': 0,
  'bind-algorithm-13': 1,
}

/** The configuration the operator's guide prints for a server (the first block after its heading). */
export function guideConfiguration(kind: PolicyServerKind): string {
  const guide = readFileSync(GUIDE, 'utf8')
  const at = guide.indexOf(HEADINGS[kind])
  const blocks = at < 0 ? [] : [...guide.slice(at).matchAll(/```\n([\s\S]*?)```/g)]
  const block = blocks[BLOCK[kind]]?.[1]
  if (!block) throw new Error(`${GUIDE} no longer prints the ${kind} configuration`)
  return block
}

/** Fails with the reason when the server is not installed (`.ci/run` installs it). */
const TOOLS: Record<string, { tool: string; packages: string }> = {
  knot: { tool: 'knotd', packages: 'knot knot-dnsutils' },
  'knot-multi-signer': { tool: 'keymgr', packages: 'knot knot-dnsutils' },
  pdns: { tool: 'pdns_server', packages: 'pdns-server pdns-backend-bind' },
}

export function requireServer(kind: PolicyServerKind): void {
  const { tool, packages } = TOOLS[kind] ?? {
    tool: 'named',
    packages: 'bind9 bind9-utils bind9-dnsutils',
  }
  try {
    execFileSync('which', [tool], { stdio: 'ignore' })
  } catch {
    throw new Error(`${tool} is not installed: apt-get install ${packages} (.ci/run does)`)
  }
}

export class PolicyServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'dg-policy-'))
  #process: ChildProcess | undefined
  output = ''
  /** Zone-file lines after the fixed ones (a multi-signer zone: the other provider's keys, the CDS). */
  extraLines: readonly string[] = []
  /** A change to the guide's configuration (e.g. long signature lifetimes for recorded fixtures). */
  adjustConfiguration: (configuration: string) => string = (configuration) => configuration

  constructor(
    public kind: PolicyServerKind,
    readonly zone: string,
    readonly port: number,
    readonly parentPort: number,
  ) {}

  #configuration(): { file: string; command: string; args: string[] } {
    const zoneFile = join(this.dir, 'zone.db')
    const fill = (text: string, parent: string) =>
      text
        .replaceAll('<ZONE>', this.zone)
        .replaceAll('<ZONE FILE>', zoneFile)
        .replaceAll('<PARENT>', parent)
    const guide = this.adjustConfiguration(guideConfiguration(this.kind))
    if (this.kind === 'pdns') {
      writeFileSync(
        join(this.dir, 'named.conf'),
        `zone "${this.zone}" { type master; file "${zoneFile}"; };\n`,
      )
      writeFileSync(
        join(this.dir, 'pdns.conf'),
        `${guide.replaceAll('<DIR>', this.dir).replaceAll('<PORT>', String(this.port))}`,
      )
      // The zone's keys and signals, as the guide's commands make them.
      this.pdnsutil('create-bind-db', join(this.dir, 'dnssec.db'))
      this.pdnsutil('secure-zone', this.zone)
      this.pdnsutil('set-publish-cds', this.zone, '2')
      this.pdnsutil('set-publish-cdnskey', this.zone)
      const args = [`--config-dir=${this.dir}`, '--daemon=no', '--guardian=no', '--disable-syslog']
      return { file: join(this.dir, 'pdns.conf'), command: 'pdns_server', args }
    }
    const knot = this.kind === 'knot' || this.kind === 'knot-multi-signer'
    const file = join(this.dir, knot ? 'knot.conf' : 'named.conf')
    if (!knot) {
      writeFileSync(
        file,
        `options {
  directory "${this.dir}";
  pid-file "${join(this.dir, 'named.pid')}";
  listen-on port ${this.port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
};
${fill(guide, `127.0.0.1 port ${this.parentPort}`)}`,
      )
      return { file, command: 'named', args: ['-g', '-c', file] }
    }
    writeFileSync(
      file,
      `server:
    listen: 127.0.0.1@${this.port}
    rundir: ${this.dir}
database:
    storage: ${this.dir}
log:
  - target: stderr
    any: info
${fill(guide, `127.0.0.1@${this.parentPort}`)}`,
    )
    return { file, command: 'knotd', args: ['-c', file] }
  }

  async start(): Promise<void> {
    writeFileSync(
      join(this.dir, 'zone.db'),
      [
        '$TTL 2',
        `@ IN SOA ns1.${this.zone}. hostmaster.${this.zone}. 1 3600 600 86400 2`,
        `@ IN NS ns1.${this.zone}.`,
        'ns1 IN A 127.0.0.1',
        'www IN A 192.0.2.1',
        ...this.extraLines,
        '',
      ].join('\n'),
    )
    const { command, args } = this.#configuration()
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000)
    })
    this.#process = child
    // Signed: the DNSKEY RRset is there.
    await waitForServer({
      child,
      name: command,
      port: this.port,
      zone: this.zone,
      output: () => this.output,
      timeoutMs: 15_000,
      ready: (answer) => answer.records.length > 0,
    })
  }

  /** One `pdnsutil` command on this server's data (PowerDNS), its output. */
  pdnsutil(...args: string[]): string {
    return execFileSync('pdnsutil', [`--config-dir=${this.dir}`, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  }

  /** One `keymgr` command on this server's KASP database (Knot), its output. */
  keymgr(...args: string[]): string {
    this.#configuration()
    return execFileSync('keymgr', ['-c', join(this.dir, 'knot.conf'), this.zone, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  }

  /** Restarts the server on its zone file as it is now (its keys kept). */
  async restart(): Promise<void> {
    await this.#stop()
    await this.start()
  }

  /** The operator's change of configuration: the server restarts with `kind`'s, its keys kept. */
  async reconfigure(kind: PolicyServerKind): Promise<void> {
    await this.#stop()
    this.kind = kind
    await this.start()
  }

  async #stop(): Promise<void> {
    const child = this.#process
    this.#process = undefined
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
    }
  }

  async close(): Promise<void> {
    await this.#stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
