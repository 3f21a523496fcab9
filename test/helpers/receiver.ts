import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface Received {
  readonly id: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** When it arrived (epoch ms). */
  readonly at: number
  /** The status the receiver answered with. */
  status?: number
}

export type Reply = {
  status: number
  headers?: Record<string, string>
  body?: string
  delayMs?: number
  /** The answer is held until this settles (then `delayMs`): a receiver that hangs until told. */
  until?: Promise<void>
}

/**
 * A real webhook receiver on loopback. It records every request; `reply` decides each answer;
 * `stop()` / `start()` take it down and bring it back on the same port.
 */
export class TestReceiver {
  readonly received: Received[] = []
  reply: (request: Received) => Reply = () => ({ status: 204 })
  #server: Server | undefined
  #port = 0

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hook`
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const request: Received = {
          id: String(req.headers['webhook-id']),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        }
        this.received.push(request)
        const answer = this.reply(request)
        request.status = answer.status
        const send = () =>
          setTimeout(() => {
            if (res.destroyed) return
            res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '')
          }, answer.delayMs ?? 0)
        if (answer.until) void answer.until.then(send)
        else send()
      })
    })
    await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', resolve))
    this.#port = (server.address() as AddressInfo).port
    this.#server = server
  }

  async stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Verifies one request with the standardwebhooks package, exactly as a receiver would. */
  verify(
    request: Received,
    secret: string,
  ): { type: string; timestamp: string; data: Record<string, unknown> } {
    return new Webhook(secret).verify(request.body, {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    }) as { type: string; timestamp: string; data: Record<string, unknown> }
  }

  /** How many requests arrived per webhook-id. */
  countsById(): Map<string, number> {
    const counts = new Map<string, number>()
    for (const request of this.received) counts.set(request.id, (counts.get(request.id) ?? 0) + 1)
    return counts
  }
}
