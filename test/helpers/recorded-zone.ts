import { createHash } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import dnsPacket from 'dns-packet'
import { type DsRecord, dsFromDnskey, parseDnskey } from '#shared/dns/dnskey.ts'
import type { TestZone, ZoneKey } from './test-zone.ts'

/**
 * What BIND 9 answered, byte for byte, for each state of each test zone: keys made by
 * `dnssec-keygen`, zones signed by `dnssec-signzone`, served by `named` and asked over UDP and
 * TCP with the gateway's own queries. Made by `npm run fixtures:dnssec` (which needs BIND).
 */
export interface RecordedZones {
  readonly recordedWith: string
  readonly zones: Record<
    string,
    {
      /** In the order the tests make them. */
      readonly keys: readonly ZoneKey[]
      /** By state (`stateKey`): `name|type|udp` or `…|tcp` → the answer, base64. */
      readonly states: Record<string, Record<string, string>>
    }
  >
}

export const RECORDED_ZONES_FILE = new URL(
  '../fixtures/dnssec/recorded-zones.json',
  import.meta.url,
)

/** A zone state's name: the key tags published and those with a CDS, each set sorted; and the extra lines' digest. */
export const stateKey = (
  published: readonly ZoneKey[],
  cds: readonly ZoneKey[],
  extra: readonly string[] = [],
) =>
  `${published.map((key) => key.keyTag).sort((a, b) => a - b)}|${cds.map((key) => key.keyTag).sort((a, b) => a - b)}${extra.length > 0 ? `|${createHash('sha256').update(extra.join('\n')).digest('hex').slice(0, 12)}` : ''}`

/** The owner names of extra zone-file lines (asked for CDS and CDNSKEY when recorded). */
export const ownersOf = (extra: readonly string[]) => [
  ...new Set(
    extra.map((line) => (line.split(/\s+/)[0] as string).toLowerCase().replace(/\.$/, '')),
  ),
]

export const questionKey = (name: string, type: string, transport: 'udp' | 'tcp') =>
  `${name.toLowerCase().replace(/\.$/, '')}|${type}|${transport}`

let loaded: RecordedZones | undefined
const recorded = (): RecordedZones => {
  loaded ??= JSON.parse(readFileSync(RECORDED_ZONES_FILE, 'utf8')) as RecordedZones
  return loaded
}

/**
 * A test zone served in-process from BIND's recorded answers (see `RecordedZones`): the
 * scanner meets the very bytes BIND sent, signatures and all, with no BIND installed. A
 * question nobody recorded is refused, as `named` refuses a zone it does not serve.
 */
export class RecordedZone implements TestZone {
  #next = 0
  #state: Record<string, string> | undefined
  #udp: Socket | undefined
  #tcp: Server | undefined

  constructor(
    readonly zone: string,
    readonly port: number,
    /** The recording's name: the zone, or `<zone>@<server>` for one server of several. */
    readonly recordedAs: string = zone,
  ) {}

  get #fixture() {
    const fixture = recorded().zones[this.recordedAs]
    if (!fixture)
      throw new Error(`no recorded answers for ${this.recordedAs}: npm run fixtures:dnssec`)
    return fixture
  }

  /** Serves a state recorded by name (a multi-signer zone's steps). */
  useState(name: string): void {
    const state = this.#fixture.states[name]
    if (!state) throw new Error(`${this.recordedAs}: no recorded state ${name}`)
    this.#state = state
  }

  newKey(ksk: boolean): ZoneKey {
    const key = this.#fixture.keys[this.#next++]
    if (!key || key.ksk !== ksk) {
      throw new Error(`${this.zone}: the tests ask for keys in another order than recorded`)
    }
    return key
  }

  /** A recording names its states by key tag: the keys are there already. */
  adoptKeys(): void {}

  dsOf(key: ZoneKey): DsRecord {
    return dsFromDnskey(this.zone, parseDnskey(key.dnskey), 2)
  }

  sign(
    published: readonly ZoneKey[],
    cds: readonly ZoneKey[],
    extra: readonly string[] = [],
  ): void {
    const key = stateKey(published, cds, extra)
    const state = this.#fixture.states[key]
    if (!state) throw new Error(`${this.zone}: no recorded state ${key}: npm run fixtures:dnssec`)
    this.#state = state
  }

  answer(query: Buffer, transport: 'udp' | 'tcp'): Buffer {
    const packet = dnsPacket.decode(query)
    const question = packet.questions?.[0]
    const found = question && this.#state?.[questionKey(question.name, question.type, transport)]
    if (found) {
      const answer = Buffer.from(found, 'base64')
      answer.writeUInt16BE(packet.id ?? 0, 0)
      return answer
    }
    const refused = {
      type: 'response' as const,
      id: packet.id,
      flags: 5,
      questions: packet.questions,
    }
    return dnsPacket.encode(refused)
  }

  async serve(): Promise<void> {
    if (this.#udp) return
    const udp = createSocket('udp4')
    udp.on('message', (message, remote) => {
      udp.send(this.answer(message, 'udp'), remote.port, remote.address)
    })
    const tcp = createServer((socket) => {
      let buffered = Buffer.alloc(0)
      socket.on('error', () => socket.destroy())
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk])
        while (buffered.length >= 2 && buffered.length >= buffered.readUInt16BE(0) + 2) {
          const size = buffered.readUInt16BE(0)
          const answer = this.answer(buffered.subarray(2, size + 2), 'tcp')
          buffered = buffered.subarray(size + 2)
          const length = Buffer.alloc(2)
          length.writeUInt16BE(answer.length)
          socket.write(Buffer.concat([length, answer]))
        }
      })
    })
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(this.port, '127.0.0.1', () => resolve())
    })
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject)
      tcp.listen(this.port, '127.0.0.1', () => resolve())
    })
    this.#udp = udp
    this.#tcp = tcp
  }

  async close(): Promise<void> {
    const [udp, tcp] = [this.#udp, this.#tcp]
    this.#udp = undefined
    this.#tcp = undefined
    udp?.close()
    await new Promise<void>((resolve) => (tcp ? tcp.close(() => resolve()) : resolve()))
  }
}
