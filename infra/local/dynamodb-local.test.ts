import { DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import { tableDefinition } from '#shared/store/table-definition.ts'
import { ensureTable, startLocalDynamoDb } from './dynamodb-local.ts'

describe('ensureTable', () => {
  const closers: (() => Promise<void>)[] = []
  afterAll(async () => {
    for (const close of closers) await close()
  })

  it('returns only once the table and its indexes are active, so the first write lands', async () => {
    // An engine that keeps a new table CREATING for a while, as DynamoDB does.
    const engine = await startLocalDynamoDb({ createTableMs: 400 })
    closers.push(engine.close)
    await ensureTable(engine.endpoint, 'waits-for-active')
    const client = new DynamoDBClient({
      endpoint: engine.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
    closers.push(async () => client.destroy())
    const { Table: table } = await client.send(
      new DescribeTableCommand({ TableName: 'waits-for-active' }),
    )
    expect(table?.TableStatus).toBe('ACTIVE')
    const indexes = tableDefinition('waits-for-active').GlobalSecondaryIndexes ?? []
    expect(table?.GlobalSecondaryIndexes?.map((index) => index.IndexStatus)).toEqual(
      indexes.map(() => 'ACTIVE'),
    )
    await client.send(
      new PutItemCommand({
        TableName: 'waits-for-active',
        Item: { pk: { S: 'X' }, sk: { S: 'X' } },
      }),
    )
    // A second call on the existing table returns at once.
    await ensureTable(engine.endpoint, 'waits-for-active')
  })
})
