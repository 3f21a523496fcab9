import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type DsRecord, dsFromDnskey, parseDnskey } from '#shared/dns/dnskey.ts'
import type { TestZone, ZoneKey } from './test-zone.ts'
import { waitForServer } from './wait-for-server.ts'

export type { ZoneKey } from './test-zone.ts'

/**
 * A real authoritative server for the tests: BIND 9 (`named`) on a loopback port, serving a zone
 * signed with keys made by `dnssec-keygen` and signed by `dnssec-signzone`; CDS records come from
 * `dnssec-dsfromkey -C`. Nothing is mocked: when BIND is missing the test fails with the reason
 * (`.ci/run` installs the Debian packages bind9, bind9-utils and bind9-dnsutils).
 */

export function requireBind(): void {
  for (const tool of ['named', 'dnssec-keygen', 'dnssec-signzone', 'dnssec-dsfromkey']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' })
    } catch {
      throw new Error(
        `${tool} is not installed: apt-get install bind9 bind9-utils bind9-dnsutils (.ci/run does)`,
      )
    }
  }
}

/** When signatures are valid: relative to now by default, or fixed (for recorded fixtures). */
export interface SignatureValidity {
  readonly inception: string
  readonly expiration: string
}

export class BindZone implements TestZone {
  readonly dir = mkdtempSync(join(tmpdir(), 'dg-bind-'))
  #process: ChildProcess | undefined

  constructor(
    readonly zone: string,
    readonly port: number,
    readonly validity: SignatureValidity = { inception: 'now-1h', expiration: 'now+1d' },
  ) {}

  newKey(ksk: boolean): ZoneKey {
    const file = execFileSync(
      'dnssec-keygen',
      [
        '-q',
        '-K',
        this.dir,
        '-a',
        'ECDSAP256SHA256',
        ...(ksk ? ['-f', 'KSK'] : []),
        '-n',
        'ZONE',
        this.zone,
      ],
      { encoding: 'utf8' },
    ).trim()
    const text = readFileSync(join(this.dir, `${file}.key`), 'utf8')
    const line = text.split('\n').find((entry) => /\sDNSKEY\s/.test(entry)) as string
    const dnskey = line.replace(/^.*\sDNSKEY\s+/, '').trim()
    return { file, keyTag: Number(file.split('+').at(-1)), ksk, dnskey }
  }

  adoptKeys(from: TestZone, keys: readonly ZoneKey[]): void {
    if (!(from instanceof BindZone)) throw new Error('keys come from another BindZone')
    for (const key of keys) {
      for (const ending of ['.key', '.private']) {
        copyFileSync(join(from.dir, `${key.file}${ending}`), join(this.dir, `${key.file}${ending}`))
      }
    }
  }

  /** The DS a parent would hold for a key (SHA-256). */
  dsOf(key: ZoneKey): DsRecord {
    return dsFromDnskey(this.zone, parseDnskey(key.dnskey), 2)
  }

  /** The CDS lines `dnssec-dsfromkey -C` makes for a key. */
  cdsOf(key: ZoneKey): string {
    return execFileSync('dnssec-dsfromkey', ['-C', '-2', join(this.dir, `${key.file}.key`)], {
      encoding: 'utf8',
    }).trim()
  }

  /**
   * Writes and signs the zone: `published` DNSKEYs, the DNSKEY RRset signed by every published
   * KSK, the rest by the ZSKs; a CDS (from `dnssec-dsfromkey -C`) for each key of `cds`.
   */
  sign(
    published: readonly ZoneKey[],
    cds: readonly ZoneKey[],
    lines: readonly string[] = [],
  ): void {
    const extra = [...cds.map((key) => this.cdsOf(key)), ...lines]
    const serial = Math.floor(Date.now() / 1000)
    const zoneFile = join(this.dir, 'zone.db')
    writeFileSync(
      zoneFile,
      [
        '$TTL 60',
        `@ IN SOA ns1.${this.zone}. hostmaster.${this.zone}. ${serial} 3600 600 86400 60`,
        `@ IN NS ns1.${this.zone}.`,
        'ns1 IN A 127.0.0.1',
        'www IN A 192.0.2.1',
        ...published.map((key) => `$INCLUDE ${join(this.dir, `${key.file}.key`)}`),
        ...extra,
        '',
      ].join('\n'),
    )
    if (published.length === 0) {
      // No keys: the zone is served unsigned, as a provider that does not sign serves it.
      copyFileSync(zoneFile, join(this.dir, 'zone.signed'))
      return
    }
    const ksks = published.filter((key) => key.ksk)
    const zsks = published.filter((key) => !key.ksk)
    execFileSync(
      'dnssec-signzone',
      [
        '-q',
        '-K',
        this.dir,
        '-o',
        this.zone,
        '-f',
        join(this.dir, 'zone.signed'),
        '-s',
        this.validity.inception,
        '-e',
        this.validity.expiration,
        ...ksks.flatMap((key) => ['-k', join(this.dir, `${key.file}.key`)]),
        zoneFile,
        ...zsks.map((key) => join(this.dir, `${key.file}.key`)),
      ],
      { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] },
    )
  }

  /** (Re)starts `named` on the port with the signed zone, and waits until it answers. */
  async serve(): Promise<void> {
    await this.stop()
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
zone "${this.zone}" { type primary; file "${join(this.dir, 'zone.signed')}"; };
`,
    )
    const child = spawn('named', ['-g', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
    let output = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    this.#process = child
    await waitForServer({
      child,
      name: 'named',
      port: this.port,
      zone: this.zone,
      output: () => output,
      timeoutMs: 10_000,
    })
  }

  async stop(): Promise<void> {
    const child = this.#process
    this.#process = undefined
    if (!child || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }

  async close(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
