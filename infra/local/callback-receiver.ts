import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { describeEvent } from '#shared/events/event-subject.ts'

export interface ReceivedCallback {
  readonly id: string
  readonly verified: boolean
  readonly payload: { type?: string; data?: Record<string, unknown> } | undefined
}

export interface CallbackReceiver {
  readonly url: string
  readonly received: ReceivedCallback[]
  close(): Promise<void>
}

/** One printed line per callback: type, subject, status and the failure's reason where there is one. */
export { describeEvent as describeCallback }

/**
 * A tiny webhook receiver on loopback for `npm start`: verifies each callback with the
 * `standardwebhooks` package (as a real receiver would) against every secret it is given (each
 * tenant's keys, the system's), prints it and answers 204.
 */
export async function startCallbackReceiver(
  secrets: () => Promise<readonly string[]> | readonly string[],
  options: { port?: number; print?: (line: string) => void } = {},
): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = []
  const print = options.print ?? ((line: string) => console.log(line))
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      }
      let payload: ReceivedCallback['payload']
      const known = await Promise.resolve(secrets()).catch(() => [] as readonly string[])
      const verified = known.some((secret) => {
        try {
          payload = new Webhook(secret).verify(body, headers) as ReceivedCallback['payload']
          return true
        } catch {
          return false
        }
      })
      received.push({ id: headers['webhook-id'], verified, payload })
      print(
        verified
          ? `callback ${headers['webhook-id']}: ${describeEvent(payload)} (signature verified)`
          : `callback ${headers['webhook-id']}: SIGNATURE NOT VERIFIED (no tenant's secret and no system secret matches)`,
      )
      response.writeHead(verified ? 204 : 401).end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/callbacks`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
