import { randomInt } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import dnsPacket, { type Answer, type Packet, type RecordType } from 'dns-packet'

/** An authoritative server to ask directly: an address (never a name) and a port. */
export interface DnsServer {
  readonly host: string
  readonly port: number
}

export class DnsQueryError extends Error {
  override name = 'DnsQueryError'
}

export interface DnsAnswer {
  readonly rcode: string
  readonly authoritative: boolean
  /** The answer section's records of the asked type, and the RRSIGs over them. */
  readonly records: readonly Answer[]
  readonly signatures: readonly Answer[]
  /** A referral (not authoritative, NS records in the authority section): the zone cut and its servers' names. */
  readonly referral?: { readonly zone: string; readonly nameServers: readonly string[] } | undefined
  /** Whether the answer came over TCP (after a truncated UDP answer, or asked so). */
  readonly tcp: boolean
}

const EDNS_PAYLOAD = 1232
const DO_BIT = 0x8000

function query(name: string, type: RecordType, id: number): Packet {
  return {
    type: 'query',
    id,
    flags: 0,
    questions: [{ type, name, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: EDNS_PAYLOAD,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: DO_BIT,
        flag_do: true,
        options: [],
      },
    ],
  }
}

function udpExchange(server: DnsServer, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(server.host.includes(':') ? 'udp6' : 'udp4')
    const timer = setTimeout(() => {
      socket.close()
      reject(
        new DnsQueryError(`no answer from ${server.host}:${server.port} within ${timeoutMs} ms`),
      )
    }, timeoutMs)
    socket.once('error', (error) => {
      clearTimeout(timer)
      socket.close()
      reject(new DnsQueryError(`${server.host}:${server.port}: ${error.message}`))
    })
    socket.on('message', (reply, remote) => {
      // Only the server asked may answer (a spoofed source is not accepted).
      if (remote.port !== server.port) return
      clearTimeout(timer)
      socket.close()
      resolve(reply)
    })
    socket.send(message, server.port, server.host)
  })
}

function tcpExchange(server: DnsServer, message: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port })
    let buffered = Buffer.alloc(0)
    const fail = (error: Error) => {
      socket.destroy()
      reject(new DnsQueryError(`${server.host}:${server.port} over TCP: ${error.message}`))
    }
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer within ${timeoutMs} ms`)))
    socket.once('error', fail)
    socket.once('connect', () => {
      const length = Buffer.alloc(2)
      length.writeUInt16BE(message.length)
      socket.write(Buffer.concat([length, message]))
    })
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length < 2) return
      const size = buffered.readUInt16BE(0)
      if (buffered.length < size + 2) return
      socket.end()
      resolve(buffered.subarray(2, size + 2))
    })
  })
}

/**
 * Asks one server directly for `name`/`type` with the DO bit set: over UDP, again over TCP when
 * the answer is truncated (or always over TCP with `tcp: true`). The answer must carry the
 * query's id and question, or it is refused.
 */
export async function queryServer(
  server: DnsServer,
  name: string,
  type: RecordType,
  options: { readonly timeoutMs?: number; readonly tcp?: boolean } = {},
): Promise<DnsAnswer> {
  const timeoutMs = options.timeoutMs ?? 3_000
  const id = randomInt(0, 65_536)
  const message = dnsPacket.encode(query(name, type, id))
  let tcp = options.tcp === true
  let raw = tcp
    ? await tcpExchange(server, message, timeoutMs)
    : await udpExchange(server, message, timeoutMs)
  let packet = decode(raw)
  if (!tcp && (packet.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) {
    tcp = true
    raw = await tcpExchange(server, message, timeoutMs)
    packet = decode(raw)
  }
  const question = packet.questions?.[0]
  if (
    packet.id !== id ||
    !question ||
    question.type !== type ||
    question.name.toLowerCase().replace(/\.$/, '') !== name.toLowerCase().replace(/\.$/, '')
  ) {
    throw new DnsQueryError(`${server.host}:${server.port} answered another question`)
  }
  const owner = name.toLowerCase().replace(/\.$/, '')
  const inAnswer = (packet.answers ?? []).filter(
    (answer) => answer.name.toLowerCase().replace(/\.$/, '') === owner,
  )
  const authoritative = Boolean((packet.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER)
  const delegation = (packet.authorities ?? []).filter((record) => record.type === 'NS')
  const cut = delegation[0]?.name.toLowerCase().replace(/\.$/, '')
  return {
    rcode: (packet as { rcode?: string }).rcode ?? 'NOERROR',
    authoritative,
    referral:
      !authoritative && inAnswer.length === 0 && cut !== undefined
        ? {
            zone: cut,
            nameServers: delegation
              .filter((record) => record.name.toLowerCase().replace(/\.$/, '') === cut)
              .map((record) => (record as { data: string }).data.toLowerCase().replace(/\.$/, '')),
          }
        : undefined,
    records: inAnswer.filter((answer) => answer.type === type),
    signatures: inAnswer.filter(
      (answer) =>
        answer.type === 'RRSIG' && (answer.data as { typeCovered: string }).typeCovered === type,
    ),
    tcp,
  }
}

function decode(raw: Buffer): Packet {
  try {
    return dnsPacket.decode(raw)
  } catch (error) {
    throw new DnsQueryError(`an answer that is not DNS: ${(error as Error).message}`)
  }
}
