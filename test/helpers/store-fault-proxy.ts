import { Agent, createServer, request, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { answerDynamoDbError, onDynamoDbRequest } from './dynamodb-request.ts'

/**
 * What DynamoDB may do to a write, as seen by its client:
 * - `applied-then-500`: the engine applies it, and the answer is an HTTP 500 (InternalFailure);
 * - `applied-then-reset`: the engine applies it, and the connection is reset before the answer;
 * - `throttled`: refused before the engine (400 ProvisionedThroughputExceededException).
 * The SDK retries all three; after the first two its retry meets the write already made.
 */
export type StoreFault = 'applied-then-500' | 'applied-then-reset' | 'throttled'

export const FAULTS: readonly StoreFault[] = ['applied-then-500', 'applied-then-reset', 'throttled']

/** The share of writes (0–1) each fault hits, drawn independently per request. */
export type FaultRates = Readonly<Record<StoreFault, number>>

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])

/** A fault for the next write that matches (its operation, and a text its JSON body contains). */
interface ScriptedFault {
  readonly operation: string
  /** Every one of these texts is in its JSON body. */
  readonly bodyContains: readonly string[]
  readonly fault: StoreFault
  /** Runs after the engine applied the write and before its answer is lost (another writer). */
  readonly meanwhile?: () => Promise<void>
}

/** A small seeded generator (mulberry32): a run's faults follow from its seed and request order. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/**
 * An HTTP proxy in front of a DynamoDB engine (dynalite or moto_server) that makes writes fail the
 * ways DynamoDB's do — at random rates, or scripted one at a time — and counts every request by
 * operation and every fault it made, so a test can tell what the store was put through.
 */
export async function startStoreFaultProxy(target: string, options: { seed?: number } = {}) {
  const upstream = new URL(target)
  const agent = new Agent({ keepAlive: true, maxSockets: 64 })
  const random = seededRandom(options.seed ?? 1)
  let rates: FaultRates | undefined
  const script: ScriptedFault[] = []
  const requests = new Map<string, number>()
  const faults = new Map<StoreFault, number>(FAULTS.map((fault) => [fault, 0]))
  const sockets = new Set<Socket>()

  const pick = (
    operation: string,
    body: string,
  ): { fault?: StoreFault; meanwhile?: () => Promise<void> } => {
    if (!WRITES.has(operation)) return {}
    const index = script.findIndex(
      (entry) =>
        entry.operation === operation && entry.bodyContains.every((text) => body.includes(text)),
    )
    if (index >= 0) return script.splice(index, 1)[0] ?? {}
    if (!rates) return {}
    let dice = random()
    for (const fault of FAULTS) {
      if (dice < rates[fault]) return { fault }
      dice -= rates[fault]
    }
    return {}
  }

  const server: Server = createServer(
    onDynamoDbRequest((incoming, outgoing, { body, operation }) => {
      requests.set(operation, (requests.get(operation) ?? 0) + 1)
      const { fault, meanwhile } = pick(operation, body.toString('utf8'))
      if (fault) faults.set(fault, (faults.get(fault) ?? 0) + 1)
      if (fault === 'throttled') {
        answerDynamoDbError(
          outgoing,
          400,
          'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          'The level of configured provisioned throughput for the table was exceeded.',
        )
        return
      }
      const forwarded = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...incoming.headers, host: upstream.host },
          agent,
        },
        (answer) => {
          const answerChunks: Buffer[] = []
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk))
          answer.on('end', async () => {
            // The engine has applied (or refused) the write; what its client hears is up to us.
            await meanwhile?.()
            if (fault === 'applied-then-reset') {
              incoming.socket.destroy()
              return
            }
            if (fault === 'applied-then-500') {
              answerDynamoDbError(
                outgoing,
                500,
                'com.amazon.coral.service#InternalFailure',
                'The request processing has failed because of an unknown error.',
              )
              return
            }
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
            outgoing.end(Buffer.concat(answerChunks))
          })
        },
      )
      forwarded.on('error', () => {
        outgoing.writeHead(502)
        outgoing.end()
      })
      forwarded.end(body)
    }),
  )
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    /** Faults at these rates from now on; undefined: none (scripted ones still apply). */
    setRates(next: FaultRates | undefined) {
      rates = next
    },
    /**
     * The next write of `operation` whose body contains every text of `bodyContains` gets `fault`;
     * `meanwhile` runs after the engine applied it and before its answer is lost.
     */
    failNext(
      fault: StoreFault,
      operation: string,
      bodyContains: string | readonly string[] = [],
      meanwhile?: () => Promise<void>,
    ) {
      const texts = typeof bodyContains === 'string' ? [bodyContains] : bodyContains
      script.push({ fault, operation, bodyContains: texts, meanwhile })
    },
    /** Scripted faults not yet used. */
    get pendingScript() {
      return script.length
    },
    requests,
    faults,
    /** Requests and faults counted from zero again. */
    resetCounts() {
      requests.clear()
      for (const fault of FAULTS) faults.set(fault, 0)
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      agent.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export type StoreFaultProxy = Awaited<ReturnType<typeof startStoreFaultProxy>>
