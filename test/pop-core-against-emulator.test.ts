import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '#infra/emulator/server.ts'
import { SHA256_DIGEST, startTestEmulator, TEST_CREDENTIAL } from './helpers/emulator.ts'

const require = createRequire(import.meta.url)
const RPCClient = require('@alicloud/pop-core').RPCClient as new (
  config: Record<string, unknown>,
) => { request(action: string, params: object, opts?: object): Promise<Record<string, unknown>> }

let emulator: RunningEmulator
beforeAll(async () => {
  emulator = await startTestEmulator()
})
afterAll(() => emulator.close())

function popCore(secret: string) {
  return new RPCClient({
    endpoint: emulator.url,
    apiVersion: '2018-01-29',
    accessKeyId: TEST_CREDENTIAL.accessKeyId,
    accessKeySecret: secret,
  })
}

describe('the official @alicloud/pop-core against the emulator', () => {
  it('succeeds with the right credentials, by POST and by GET', async () => {
    const client = popCore(TEST_CREDENTIAL.accessKeySecret)
    const added = await client.request(
      'SaveSingleTaskForAddingDSRecord',
      {
        DomainName: 'pop-core.example',
        KeyTag: 1,
        Algorithm: 13,
        DigestType: 2,
        Digest: SHA256_DIGEST,
      },
      { method: 'POST' },
    )
    expect(added.TaskNo).toMatch(/^[0-9a-f-]{36}$/)
    const details = await client.request('QueryTaskDetailList', {
      TaskNo: added.TaskNo,
      PageNum: 1,
      PageSize: 10,
    })
    expect((details.Data as { TaskDetail: unknown[] }).TaskDetail).toHaveLength(1)
  })

  it('gets SignatureDoesNotMatch with a wrong secret', async () => {
    const client = popCore('not-the-secret')
    await expect(
      client.request('QueryDSRecord', { DomainName: 'pop-core.example' }, { method: 'POST' }),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' })
  })
})
