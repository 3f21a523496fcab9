import { createSocket, type Socket } from 'node:dgram'
import { type AddressInfo, createServer, type Server } from 'node:net'
import dnsPacket, { type Packet } from 'dns-packet'

export interface RunningDnsServer {
  readonly port: number
  close(): Promise<void>
}

/**
 * Serves DNS on UDP and TCP on the same loopback port (0: any free port): `respond` answers each
 * query. A message that is not DNS gets no answer (UDP) or a closed connection (TCP), as a server
 * would give it.
 */
export async function serveDns(
  respond: (request: Packet) => Packet,
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<RunningDnsServer> {
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
          const reply = dnsPacket.encode(respond(dnsPacket.decode(message)))
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
      udp.send(dnsPacket.encode(respond(dnsPacket.decode(message))), remote.port, remote.address)
    } catch {
      // Not DNS: no answer.
    }
  })
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject)
    udp.bind(port, host, () => resolve())
  }).catch(async (error: unknown) => {
    await new Promise<void>((resolve) => tcp.close(() => resolve()))
    throw error
  })
  return {
    port,
    async close() {
      await new Promise<void>((resolve) => udp.close(() => resolve()))
      await new Promise<void>((resolve) => tcp.close(() => resolve()))
    },
  }
}
