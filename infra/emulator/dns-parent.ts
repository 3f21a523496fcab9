import { createSocket, type Socket } from 'node:dgram'
import type { AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:net'
import dnsPacket, { type Answer, type Packet } from 'dns-packet'
import type { DsRecord } from '#shared/dnssec.ts'

/**
 * The parent zone, as the emulator plays it: over DNS (UDP and TCP, loopback), the DS records
 * its registry tasks have set, each set published a while after its task settled, with a TTL —
 * so a DNSSEC scanner can check that the parent really serves a new DS, and wait out its TTL,
 * without the internet. Answers are authoritative and unsigned; other questions get an empty
 * NOERROR answer for names it knows and NXDOMAIN otherwise.
 */
export interface ParentZoneOptions {
  /** How long after a task settles its DS set is served. */
  readonly publishDelayMs: number
  readonly dsTtlSeconds: number
  readonly now: () => number
  /** Called before each answer (the emulator settles its due tasks then). */
  readonly beforeServe?: () => void
}

/** Published DS sets per domain, in the order they were set. */
export class DsPublication {
  readonly #history = new Map<string, { at: number; records: readonly DsRecord[] }[]>()

  constructor(private readonly options: ParentZoneOptions) {}

  /** Records a domain's DS set as the registry holds it from `at` on. */
  record(domain: string, records: readonly DsRecord[], at: number): void {
    const list = this.#history.get(domain) ?? []
    list.push({ at: at + this.options.publishDelayMs, records: [...records] })
    this.#history.set(domain, list)
  }

  /** The DS set the parent serves now, or undefined for a domain it never delegated with DS. */
  served(domain: string): readonly DsRecord[] | undefined {
    this.options.beforeServe?.()
    const now = this.options.now()
    const list = this.#history.get(domain.toLowerCase().replace(/\.$/, ''))
    if (!list) return undefined
    let current: readonly DsRecord[] | undefined
    for (const entry of list) if (entry.at <= now) current = entry.records
    return current
  }

  knows(domain: string): boolean {
    this.options.beforeServe?.()
    return this.#history.has(domain.toLowerCase().replace(/\.$/, ''))
  }

  get ttlSeconds(): number {
    return this.options.dsTtlSeconds
  }
}

function answerTo(request: Packet, zone: DsPublication): Packet {
  const question = request.questions?.[0]
  const base = {
    type: 'response' as const,
    id: request.id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: request.questions,
  }
  if (!question) return { ...base, answers: [] }
  const name = question.name.toLowerCase().replace(/\.$/, '')
  const answers: Answer[] = []
  if (question.type === 'DS') {
    for (const record of zone.served(name) ?? []) {
      answers.push({
        type: 'DS',
        name,
        ttl: zone.ttlSeconds,
        class: 'IN',
        data: {
          keyTag: record.keyTag,
          algorithm: record.algorithm,
          digestType: record.digestType,
          digest: Buffer.from(record.digest, 'hex'),
        },
      })
    }
  }
  // The response code sits in the flags' low bits: 3 is NXDOMAIN.
  const rcode = zone.knows(name) ? 0 : 3
  return { ...base, flags: base.flags | rcode, answers }
}

export interface RunningParentZone {
  readonly port: number
  close(): Promise<void>
}

/** Serves the zone on UDP and TCP on the same loopback port (0: any free port). */
export async function startParentZone(
  zone: DsPublication,
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<RunningParentZone> {
  const host = options.host ?? '127.0.0.1'
  const tcp: Server = createServer((socket) => {
    let buffered = Buffer.alloc(0)
    socket.on('error', () => socket.destroy())
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 2 && buffered.length >= buffered.readUInt16BE(0) + 2) {
        const size = buffered.readUInt16BE(0)
        const message = buffered.subarray(2, size + 2)
        buffered = buffered.subarray(size + 2)
        try {
          const reply = dnsPacket.encode(answerTo(dnsPacket.decode(message), zone))
          const length = Buffer.alloc(2)
          length.writeUInt16BE(reply.length)
          socket.write(Buffer.concat([length, reply]))
        } catch {
          socket.destroy()
        }
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject)
    tcp.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (tcp.address() as AddressInfo).port
  const udp: Socket = createSocket('udp4')
  udp.on('message', (message, remote) => {
    try {
      const reply = dnsPacket.encode(answerTo(dnsPacket.decode(message), zone))
      udp.send(reply, remote.port, remote.address)
    } catch {
      // Not DNS: no answer, as a server would drop it.
    }
  })
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject)
    udp.bind(port, host, () => resolve())
  })
  return {
    port,
    async close() {
      await new Promise<void>((resolve) => udp.close(() => resolve()))
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
    },
  }
}
