import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { onDynamoDbRequest } from './dynamodb-request.ts'

export interface RecordedOperation {
  readonly caller: string
  /** e.g. `PutItem` */
  readonly operation: string
  readonly table: string | undefined
  readonly index: string | undefined
  /** Capacity units the engine says the request consumed (only with `capacity: true`). */
  capacityUnits?: number
}

/** The operations that can report their consumed capacity. */
const REPORTS_CAPACITY = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
])

/**
 * An HTTP proxy in front of the embedded DynamoDB that records every operation (from the
 * `X-Amz-Target` header and the request body) under the label in `caller`. With `capacity`, it
 * also asks the engine for each request's consumed capacity (base table; the engine does not
 * count index writes) and records it.
 */
export async function startRecordingProxy(target: string, options: { capacity?: boolean } = {}) {
  const operations: RecordedOperation[] = []
  const state = { caller: 'unknown' }
  const upstream = new URL(target)
  const server: Server = createServer(
    onDynamoDbRequest((incoming, outgoing, { body, operation }) => {
      let parsed: {
        TableName?: string
        IndexName?: string
        RequestItems?: object
        ReturnConsumedCapacity?: string
      } = {}
      try {
        parsed = JSON.parse(body.toString('utf8'))
      } catch {}
      const recorded: RecordedOperation = {
        caller: state.caller,
        operation,
        // A batch names its tables in RequestItems (the gateway batches on its one table).
        table: parsed.TableName ?? Object.keys(parsed.RequestItems ?? {})[0],
        index: parsed.IndexName,
      }
      operations.push(recorded)
      const measure = options.capacity === true && REPORTS_CAPACITY.has(operation)
      const sent = measure
        ? Buffer.from(JSON.stringify({ ...parsed, ReturnConsumedCapacity: 'TOTAL' }))
        : body
      const forward = request(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          path: incoming.url,
          method: incoming.method,
          headers: { ...incoming.headers, 'content-length': String(sent.length) },
        },
        (response) => {
          if (!measure) {
            outgoing.writeHead(response.statusCode ?? 500, response.headers)
            response.pipe(outgoing)
            return
          }
          const answer: Buffer[] = []
          response.on('data', (chunk: Buffer) => answer.push(chunk))
          response.on('end', () => {
            const raw = Buffer.concat(answer)
            try {
              const { ConsumedCapacity } = JSON.parse(raw.toString('utf8')) as {
                ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[]
              }
              const list = Array.isArray(ConsumedCapacity) ? ConsumedCapacity : [ConsumedCapacity]
              recorded.capacityUnits = list.reduce(
                (sum, entry) => sum + (entry?.CapacityUnits ?? 0),
                0,
              )
            } catch {}
            // The engine's answer as it came (the CRC the SDK checks is over these bytes).
            outgoing.writeHead(response.statusCode ?? 500, response.headers)
            outgoing.end(raw)
          })
        },
      )
      forward.on('error', () => outgoing.writeHead(502).end())
      forward.end(sent)
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    operations,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
