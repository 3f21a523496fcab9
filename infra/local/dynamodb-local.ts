import type { AddressInfo } from 'node:net'
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import dynalite from 'dynalite'
import { tableDefinition } from '#shared/store/table-definition.ts'

export interface LocalDynamoDb {
  readonly endpoint: string
  close(): Promise<void>
}

/**
 * Starts the embedded DynamoDB engine (dynalite) on loopback: in memory, or in `path` when set.
 * It speaks the DynamoDB HTTP API, so the same store code runs here and on AWS.
 */
export async function startLocalDynamoDb(
  options: { port?: number; path?: string } = {},
): Promise<LocalDynamoDb> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
      }),
  }
}

/** Creates the gateway's table unless it exists. */
export async function ensureTable(
  endpoint: string,
  tableName: string,
  region = 'us-east-1',
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  })
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }))
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error
    await client.send(new CreateTableCommand(tableDefinition(tableName)))
  } finally {
    client.destroy()
  }
}
