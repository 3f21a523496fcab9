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
  options: { port?: number; path?: string; createTableMs?: number } = {},
): Promise<LocalDynamoDb> {
  const server = dynalite({
    // How long a new table stays CREATING (DynamoDB takes seconds; ensureTable waits either way).
    createTableMs: options.createTableMs ?? 0,
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

/** Creates the gateway's table unless it exists, and returns once it can be used. */
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
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }))
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error
      await client.send(new CreateTableCommand(tableDefinition(tableName)))
    }
    await untilActive(client, tableName)
  } finally {
    client.destroy()
  }
}

/**
 * Waits until the engine reports the table and each of its indexes `ACTIVE`: until then a write
 * can be refused as "resource not found" (dynalite and DynamoDB both create tables in the
 * background), so nothing may use the table before. Bounded, for an engine that never gets there.
 */
async function untilActive(client: DynamoDBClient, tableName: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    const indexes = table?.GlobalSecondaryIndexes ?? []
    if (
      table?.TableStatus === 'ACTIVE' &&
      indexes.every((index) => index.IndexStatus === undefined || index.IndexStatus === 'ACTIVE')
    ) {
      return
    }
    if (Date.now() > deadline) {
      throw new Error(`the table ${tableName} is still ${table?.TableStatus} after ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
}
