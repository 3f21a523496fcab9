import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/**
 * Ports for servers the tests start themselves (BIND, Knot, moto, the parent zone).
 *
 * A port the kernel hands out for `listen(0)` comes from the ephemeral range, which every
 * outgoing connection on the machine draws from too: by the time a DNS server binds it, a
 * connection may hold it ("address already in use", seen in CI). These ports come from below
 * that range, so the kernel never gives them away, and each test worker (VITEST_POOL_ID) has
 * its own slice, so two test files running side by side never pick the same one. Each is
 * checked free for TCP and UDP before it is handed out.
 */
const LOWEST = 10_000
const SLICES = 16

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)
    const value = Number(low)
    return Number.isInteger(value) && value > LOWEST + SLICES * 100 ? value : 32_768
  } catch {
    return 32_768
  }
}

const span = Math.floor((ephemeralLow() - LOWEST) / SLICES)
const slice = Number(process.env.VITEST_POOL_ID ?? process.pid) % SLICES
let next = Math.floor(Math.random() * span)

async function tcpFree(port: number): Promise<boolean> {
  const server = createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

async function udpFree(port: number): Promise<boolean> {
  const socket = createSocket('udp4')
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close()
      resolve(false)
    })
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)))
  })
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < span; attempt += 1) {
    const port = LOWEST + slice * span + (next % span)
    next += 1
    if ((await tcpFree(port)) && (await udpFree(port))) return port
  }
  throw new Error('no free port in this worker’s slice')
}
