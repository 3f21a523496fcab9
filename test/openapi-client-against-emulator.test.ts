import * as $OpenApi from '@alicloud/openapi-client'
import * as $Util from '@alicloud/tea-util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '#infra/emulator/server.ts'
import { SHA256_DIGEST, startTestEmulator, TEST_CREDENTIAL } from './helpers/emulator.ts'

/**
 * The transport under Alibaba's current generated SDK (`@alicloud/domain20180129` calls it so):
 * style RPC, `POST /`, action parameters in the query, a form body, a JSON response body,
 * version 2018-01-29 — by default signed with ACS3-HMAC-SHA256 and with no `Format` parameter, or
 * with HMAC-SHA1 (`signatureAlgorithm: 'v2'`). Every action the gateway uses, unchanged.
 */
const OpenApiClient = (($OpenApi as unknown as { default: typeof $OpenApi.default }).default ??
  $OpenApi.default) as unknown as new (
  config: $OpenApi.Config,
) => {
  callApi(
    params: $OpenApi.Params,
    request: $OpenApi.OpenApiRequest,
    runtime: $Util.RuntimeOptions,
  ): Promise<{ statusCode: number; body: Record<string, unknown> }>
}

let emulator: RunningEmulator
beforeAll(async () => {
  emulator = await startTestEmulator({ account: { taskMs: 0 } })
  await fetch(`${emulator.url}/__emulator/instances/S20179H1BBI9test/dns-hosts`, {
    method: 'PUT',
    body: JSON.stringify([{ dnsName: 'ns1', ips: ['192.0.2.1'] }]),
  })
})
afterAll(() => emulator.close())

function sdk(mode: 'v3' | 'v2', secret: string = TEST_CREDENTIAL.accessKeySecret) {
  const client = new OpenApiClient(
    new $OpenApi.Config({
      accessKeyId: TEST_CREDENTIAL.accessKeyId,
      accessKeySecret: secret,
      endpoint: new URL(emulator.url).host,
      protocol: 'http',
      ...(mode === 'v2' ? { signatureAlgorithm: 'v2' } : {}),
    }),
  )
  return async (action: string, query: Record<string, unknown>) => {
    const params = new $OpenApi.Params({
      action,
      version: '2018-01-29',
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    })
    const answer = await client.callApi(
      params,
      new $OpenApi.OpenApiRequest({ query }),
      new $Util.RuntimeOptions({}),
    )
    return answer.body
  }
}

describe.each(['v3', 'v2'] as const)(
  '@alicloud/openapi-client (%s signing) against the emulator',
  (mode) => {
    it('calls every action the gateway uses', async () => {
      const call = sdk(mode)
      const domain = `openapi-${mode}.com`
      const added = await call('SaveSingleTaskForAddingDSRecord', {
        DomainName: domain,
        KeyTag: 2371,
        Algorithm: 13,
        DigestType: 2,
        Digest: SHA256_DIGEST,
      })
      expect(added.TaskNo).toEqual(expect.any(String))
      const details = (await call('QueryTaskDetailList', {
        TaskNo: added.TaskNo,
        PageNum: 1,
        PageSize: 10,
      })) as { Data: { TaskDetail: { ErrorMsg: string; TaskDetailNo: string }[] } }
      expect(details.Data.TaskDetail[0]).toMatchObject({
        ErrorMsg: 'The operation is successful.',
        TaskDetailNo: expect.stringMatching(/^[0-9a-f]{32}$/),
      })
      const ds = (await call('QueryDSRecord', { DomainName: domain })) as {
        DSRecordList: { KeyTag: number }[]
      }
      expect(ds.DSRecordList).toMatchObject([{ KeyTag: 2371 }])
      for (const [action, query] of [
        [
          'SaveSingleTaskForModifyingDSRecord',
          { DomainName: domain, KeyTag: 2371, Algorithm: 13, DigestType: 2, Digest: SHA256_DIGEST },
        ],
        ['SaveSingleTaskForSynchronizingDSRecord', { DomainName: domain }],
        ['SaveSingleTaskForDeletingDSRecord', { DomainName: domain, KeyTag: 2371 }],
        ['SaveSingleTaskForSynchronizingDnsHost', { InstanceId: 'S20179H1BBI9test' }],
        [
          'SaveBatchTaskForModifyingDomainDns',
          {
            AliyunDns: false,
            'DomainName.1': domain,
            'DomainNameServer.1': 'ns1.example.net',
            'DomainNameServer.2': 'ns2.example.net',
          },
        ],
      ] as const) {
        expect((await call(action, query)).TaskNo, action).toEqual(expect.any(String))
      }
      const listed = (await call('QueryTaskList', {
        BeginCreateTime: Date.now() - 60_000,
        EndCreateTime: Date.now(),
        PageNum: 1,
        PageSize: 100,
      })) as { Data: { TaskInfo: { TaskBizType: string; TaskTypeCode: number }[] } }
      expect(listed.Data.TaskInfo.length).toBeGreaterThanOrEqual(6)
      expect(listed.Data.TaskInfo[0]).toMatchObject({
        TaskBizType: expect.any(String),
        TaskTypeCode: expect.any(Number),
      })
      const hosts = (await call('QueryDnsHost', { InstanceId: 'S20179H1BBI9test' })) as {
        DnsHostList: { DnsName: string; IpList: string[] }[]
      }
      expect(hosts.DnsHostList).toEqual([{ DnsName: 'ns1', IpList: ['192.0.2.1'] }])
    })

    it('gets SignatureDoesNotMatch with a wrong secret', async () => {
      await expect(
        sdk(mode, 'not-the-secret')('QueryDSRecord', { DomainName: 'x.example' }),
      ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' })
    })
  },
)
