import type { IncomingMessage, ServerResponse } from 'node:http'

/** A DynamoDB request read whole: its body and its operation (from `X-Amz-Target`, e.g. `PutItem`). */
export interface DynamoDbRequest {
  readonly body: Buffer
  readonly operation: string
}

/** A request listener for a proxy in front of a DynamoDB engine: reads each request whole first. */
export function onDynamoDbRequest(
  handle: (incoming: IncomingMessage, outgoing: ServerResponse, request: DynamoDbRequest) => void,
) {
  return (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', () => {
      const operation =
        String(incoming.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? ''
      handle(incoming, outgoing, { body: Buffer.concat(chunks), operation })
    })
  }
}

/** Answers as DynamoDB answers an error: a JSON body naming its type. */
export function answerDynamoDbError(
  outgoing: ServerResponse,
  status: number,
  type: string,
  message: string,
): void {
  outgoing.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' })
  outgoing.end(JSON.stringify({ __type: type, message }))
}
