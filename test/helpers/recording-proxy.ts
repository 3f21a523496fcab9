import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedOperation {
  readonly caller: string
  /** e.g. `PutItem` */
  readonly operation: string
  readonly table: string | undefined
  readonly index: string | undefined
}

/**
 * An HTTP proxy in front of the embedded DynamoDB that records every operation (from the
 * `X-Amz-Target` header and the request body) under the label in `caller`.
 */
export async function startRecordingProxy(target: string) {
  const operations: RecordedOperation[] = []
  const state = { caller: 'unknown' }
  const upstream = new URL(target)
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const body = Buffer.concat(chunks)
      const operation =
        String(incoming.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? ''
      let parsed: { TableName?: string; IndexName?: string; RequestItems?: object } = {}
      try {
        parsed = JSON.parse(body.toString('utf8'))
      } catch {}
      operations.push({
        caller: state.caller,
        operation,
        // A batch names its tables in RequestItems (the gateway batches on its one table).
        table: parsed.TableName ?? Object.keys(parsed.RequestItems ?? {})[0],
        index: parsed.IndexName,
      })
      const forward = request(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 500, response.headers)
          response.pipe(outgoing)
        },
      )
      forward.on('error', () => outgoing.writeHead(502).end())
      forward.end(body)
    })
  })
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
