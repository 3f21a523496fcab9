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
        DomainName: 'pop-core-example.com',
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

  it('calls every action the gateway uses', async () => {
    const client = popCore(TEST_CREDENTIAL.accessKeySecret)
    await fetch(`${emulator.url}/__emulator/instances/S20179H1BBI9test/dns-hosts`, {
      method: 'PUT',
      body: JSON.stringify([{ dnsName: 'ns1', ips: ['192.0.2.1'] }]),
    })
    const domain = 'every-action.example'
    const record = { KeyTag: 7, Algorithm: 13, DigestType: 2, Digest: SHA256_DIGEST }
    // One domain per write: the registry runs one task per domain at a time.
    const writes: [string, object][] = [
      ['SaveSingleTaskForAddingDSRecord', { DomainName: domain, ...record }],
      ['SaveSingleTaskForModifyingDSRecord', { DomainName: `m-${domain}`, ...record }],
      ['SaveSingleTaskForDeletingDSRecord', { DomainName: `d-${domain}`, KeyTag: 7 }],
      ['SaveSingleTaskForSynchronizingDSRecord', { DomainName: `s-${domain}` }],
      ['SaveSingleTaskForSynchronizingDnsHost', { InstanceId: 'S20179H1BBI9test' }],
      [
        'SaveBatchTaskForModifyingDomainDns',
        { AliyunDns: true, 'DomainName.1': `b-${domain}`, 'DomainName.2': 'second.example' },
      ],
    ]
    for (const [action, params] of writes) {
      const answer = await client.request(action, params, { method: 'POST' })
      expect(answer.TaskNo, action).toEqual(expect.any(String))
    }
    const listed = await client.request(
      'QueryTaskList',
      { BeginCreateTime: Date.now() - 60_000, EndCreateTime: Date.now(), PageNum: 1, PageSize: 50 },
      { method: 'POST' },
    )
    expect((listed.Data as { TaskInfo: unknown[] }).TaskInfo.length).toBeGreaterThanOrEqual(6)
    const ds = await client.request('QueryDSRecord', { DomainName: domain }, { method: 'POST' })
    expect(ds.DSRecordList).toEqual(expect.any(Array))
    const hosts = await client.request(
      'QueryDnsHost',
      { InstanceId: 'S20179H1BBI9test' },
      { method: 'POST' },
    )
    expect(hosts.DnsHostList).toEqual([{ DnsName: 'ns1', IpList: ['192.0.2.1'] }])
  })

  it('gets SignatureDoesNotMatch with a wrong secret', async () => {
    const client = popCore('not-the-secret')
    await expect(
      client.request('QueryDSRecord', { DomainName: 'pop-core-example.com' }, { method: 'POST' }),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' })
  })
})
