import { describe, expect, it } from 'vitest'
import { createEmulator } from '#infra/emulator/app.ts'
import { flattenParams, type RpcParams } from '#shared/aliyun/rpc-params.ts'
import {
  formatRpcTimestamp,
  signatureV1,
  signRpcRequestV1,
  stringToSignV1,
} from '#shared/aliyun/signature-v1.ts'
import { signRequestV3 } from '#shared/aliyun/signature-v3.ts'
import { ManualClock, SHA256_DIGEST, TEST_CREDENTIAL } from './helpers/emulator.ts'

const ENDPOINT = 'http://domain.emulator.test/'

function setup(extra: { securityToken?: string } = {}) {
  const clock = new ManualClock()
  const emulator = createEmulator({
    credentials: [{ ...TEST_CREDENTIAL, ...extra }],
    now: clock.now,
  })
  let counter = 0
  interface Overrides {
    method?: 'GET' | 'POST'
    action?: string
    params?: RpcParams
    secret?: string
    accessKeyId?: string
    nonce?: string
    timestamp?: string
    format?: 'JSON' | 'XML' | null
    version?: string
    securityToken?: string
    edit?: (params: Record<string, string>) => void
  }
  async function v1(overrides: Overrides = {}): Promise<Response> {
    const method = overrides.method ?? 'POST'
    const signed = signRpcRequestV1({
      method,
      action: overrides.action ?? 'QueryDSRecord',
      version: overrides.version ?? '2018-01-29',
      params: flattenParams(overrides.params ?? { DomainName: 'example.com' }),
      credentials: {
        accessKeyId: overrides.accessKeyId ?? TEST_CREDENTIAL.accessKeyId,
        accessKeySecret: overrides.secret ?? TEST_CREDENTIAL.accessKeySecret,
        securityToken: overrides.securityToken,
      },
      nonce: overrides.nonce ?? `nonce-${++counter}`,
      timestamp: overrides.timestamp ?? formatRpcTimestamp(clock.now()),
      format: overrides.format === null ? undefined : (overrides.format ?? 'JSON'),
    })
    const params = { ...signed.params }
    if (overrides.format === null) {
      // Sign again without Format, as a client relying on the XML default would.
      delete params.Format
      delete params.Signature
      params.Signature = signatureV1(
        stringToSignV1(method, params),
        overrides.secret ?? TEST_CREDENTIAL.accessKeySecret,
      )
    }
    overrides.edit?.(params)
    const encoded = new URLSearchParams(params).toString()
    if (method === 'GET') return emulator.app.request(`${ENDPOINT}?${encoded}`)
    return emulator.app.request(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: encoded,
    })
  }
  return { clock, emulator, v1 }
}

interface ErrorAnswer {
  status: number
  Code?: string
  Message?: string
  [field: string]: unknown
}

async function errorOf(response: Response): Promise<ErrorAnswer> {
  const body = (await response.json()) as Record<string, unknown>
  return { ...body, status: response.status }
}

describe('emulator: signature version 1.0', () => {
  it('accepts a correctly signed POST and GET', async () => {
    const { v1 } = setup()
    expect((await v1()).status).toBe(200)
    expect((await v1({ method: 'GET' })).status).toBe(200)
  })

  it('answers SignatureDoesNotMatch with its own StringToSign for a wrong secret', async () => {
    const { v1 } = setup()
    const error = await errorOf(await v1({ secret: 'wrong', nonce: 'n-1' }))
    expect(error.status).toBe(400)
    expect(error.Code).toBe('SignatureDoesNotMatch')
    expect(error.Message).toContain('server string to sign is:POST&%2F&AccessKeyId%3D')
    expect(error.Message).toContain('SignatureNonce%3Dn-1')
    expect(Object.keys(error).sort()).toEqual(
      ['Code', 'HostId', 'Message', 'Recommend', 'RequestId', 'status'].sort(),
    )
  })

  it('answers SignatureDoesNotMatch when a signed value was changed in transit', async () => {
    const { v1 } = setup()
    const error = await errorOf(await v1({ edit: (p) => (p.DomainName = 'other.com') }))
    expect(error.Code).toBe('SignatureDoesNotMatch')
  })

  it('answers IncompleteSignature without a Signature or with another method', async () => {
    const { v1 } = setup()
    expect((await errorOf(await v1({ edit: (p) => delete p.Signature }))).Code).toBe(
      'IncompleteSignature',
    )
    const other = await errorOf(await v1({ edit: (p) => (p.SignatureMethod = 'HMAC-SHA256') }))
    expect(other).toMatchObject({ status: 400, Code: 'IncompleteSignature' })
  })

  it('answers InvalidAccessKeyId.NotFound (404) for an unknown key', async () => {
    const { v1 } = setup()
    expect(await errorOf(await v1({ accessKeyId: 'LTAIunknown' }))).toMatchObject({
      status: 404,
      Code: 'InvalidAccessKeyId.NotFound',
    })
  })

  it('refuses a reused nonce for 15 minutes, and only after the signature checks out', async () => {
    const { v1, clock } = setup()
    expect((await v1({ nonce: 'once', secret: 'wrong' })).status).toBe(400)
    expect((await v1({ nonce: 'once' })).status).toBe(200)
    expect(await errorOf(await v1({ nonce: 'once' }))).toMatchObject({
      status: 400,
      Code: 'SignatureNonceUsed',
    })
    clock.advance(14 * 60_000)
    expect((await errorOf(await v1({ nonce: 'once' }))).Code).toBe('SignatureNonceUsed')
    clock.advance(2 * 60_000)
    expect((await v1({ nonce: 'once' })).status).toBe(200)
  })

  it('accepts ±15 minutes of clock skew and refuses more with InvalidTimeStamp.Expired', async () => {
    const { v1, clock } = setup()
    expect((await v1({ timestamp: formatRpcTimestamp(clock.now() - 14 * 60_000) })).status).toBe(
      200,
    )
    for (const skew of [-16 * 60_000, 16 * 60_000]) {
      const error = await errorOf(await v1({ timestamp: formatRpcTimestamp(clock.now() + skew) }))
      expect(error).toMatchObject({ status: 400, Code: 'InvalidTimeStamp.Expired' })
    }
    expect((await errorOf(await v1({ timestamp: '2026/11/22 12:00:00' }))).Code).toBe(
      'InvalidTimeStamp.Format',
    )
  })

  it('answers Missing<Name> for a missing common or action parameter, as the gateway does today', async () => {
    const { v1 } = setup()
    const noTimestamp = await errorOf(await v1({ edit: (p) => delete p.Timestamp }))
    expect(noTimestamp).toMatchObject({
      status: 400,
      Code: 'MissingTimestamp',
      Message: 'Timestamp is mandatory for this action.',
    })
    const noDomain = await errorOf(await v1({ params: {} }))
    expect(noDomain).toMatchObject({
      Code: 'MissingDomainName',
      Message: 'DomainName is mandatory for this action.',
    })
  })

  it('answers InvalidParameter for values of the wrong type or range', async () => {
    const { v1 } = setup()
    const ds = { DomainName: 'example.com', Algorithm: 13, DigestType: 2, Digest: SHA256_DIGEST }
    for (const keyTag of ['abc', '65536', '-1']) {
      const error = await errorOf(
        await v1({ action: 'SaveSingleTaskForAddingDSRecord', params: { ...ds, KeyTag: keyTag } }),
      )
      expect(error).toMatchObject({ status: 400, Code: 'InvalidParameter' })
    }
    const page = await errorOf(
      await v1({
        action: 'QueryTaskDetailList',
        params: { TaskNo: 't', PageNum: 1, PageSize: 1001 },
      }),
    )
    expect(page.Code).toBe('InvalidParameter')
  })

  it('answers ParameterIllegal for values the service does not accept', async () => {
    const { v1 } = setup()
    const base = { DomainName: 'example.com', KeyTag: 1, Algorithm: 13, DigestType: 2 }
    const cases: RpcParams[] = [
      { ...base, Digest: SHA256_DIGEST.slice(2) },
      { ...base, Digest: `${SHA256_DIGEST.slice(1)}z` },
      { ...base, Algorithm: 4, Digest: SHA256_DIGEST },
      { ...base, DigestType: 9, Digest: SHA256_DIGEST },
      { ...base, DomainName: 'bad..example', Digest: SHA256_DIGEST },
    ]
    for (const params of cases) {
      const error = await errorOf(await v1({ action: 'SaveSingleTaskForAddingDSRecord', params }))
      expect(error).toMatchObject({ status: 400, Code: 'ParameterIllegal' })
    }
  })

  it('answers InvalidVersion and InvalidAction.NotFound', async () => {
    const { v1 } = setup()
    expect((await errorOf(await v1({ version: '2099-01-01' }))).Code).toBe('InvalidVersion')
    expect((await v1({ version: '2017-12-18' })).status).toBe(200)
    expect(await errorOf(await v1({ action: 'DeleteEverything' }))).toMatchObject({
      status: 404,
      Code: 'InvalidAction.NotFound',
    })
  })

  it('answers XML by default and JSON when asked', async () => {
    const { v1 } = setup()
    const xml = await v1({ format: null, action: 'SaveSingleTaskForSynchronizingDSRecord' })
    expect(xml.headers.get('content-type')).toContain('text/xml')
    const text = await xml.text()
    expect(text).toMatch(
      /^<\?xml version='1.0' encoding='UTF-8'\?><SaveSingleTaskForSynchronizingDSRecordResponse><RequestId>[0-9A-F-]+<\/RequestId><TaskNo>[0-9a-f-]+<\/TaskNo><\/SaveSingleTaskForSynchronizingDSRecordResponse>$/,
    )
    const xmlError = await (await v1({ format: null, secret: 'wrong' })).text()
    expect(xmlError).toContain('<Error><RequestId>')
    expect(xmlError).toContain('<Code>SignatureDoesNotMatch</Code>')
    const json = await v1()
    expect(json.headers.get('content-type')).toContain('application/json')
  })

  it('requires the configured STS token', async () => {
    const { v1 } = setup({ securityToken: 'sts-token' })
    expect((await errorOf(await v1())).Code).toBe('InvalidSecurityToken.Mismatch')
    expect((await v1({ securityToken: 'sts-token' })).status).toBe(200)
  })
})

function v3Request(
  clock: ManualClock,
  overrides: {
    secret?: string
    nonce?: string
    body?: string
    signedBody?: string
    extraHeader?: boolean
    accept?: string
  } = {},
) {
  const body = overrides.signedBody ?? 'DomainName=example.com&Format=JSON'
  const signed = signRequestV3({
    method: 'POST',
    host: 'domain.emulator.test',
    action: 'QueryDSRecord',
    version: '2018-01-29',
    query: {},
    body,
    contentType: 'application/x-www-form-urlencoded',
    credentials: {
      accessKeyId: TEST_CREDENTIAL.accessKeyId,
      accessKeySecret: overrides.secret ?? TEST_CREDENTIAL.accessKeySecret,
    },
    nonce: overrides.nonce ?? 'v3-nonce',
    date: formatRpcTimestamp(clock.now()),
  })
  const headers: Record<string, string> = { ...signed.headers }
  if (overrides.extraHeader) headers['x-acs-unsigned'] = 'sneaky'
  if (overrides.accept) headers.accept = overrides.accept
  return new Request(ENDPOINT, { method: 'POST', headers, body: overrides.body ?? body })
}

describe('emulator: V3 signature', () => {
  it('accepts a correct request and refuses a wrong secret, a changed body, an unsigned x-acs header and a reused nonce', async () => {
    const { emulator, clock } = setup()
    expect((await emulator.app.request(v3Request(clock, { nonce: 'a' }))).status).toBe(200)
    const wrong = await errorOf(
      await emulator.app.request(v3Request(clock, { nonce: 'b', secret: 'x' })),
    )
    expect(wrong.Code).toBe('SignatureDoesNotMatch')
    expect(wrong.Message).toContain('ACS3-HMAC-SHA256\n')
    const tampered = await errorOf(
      await emulator.app.request(
        v3Request(clock, { nonce: 'c', body: 'DomainName=evil.com&Format=JSON' }),
      ),
    )
    expect(tampered.Code).toBe('SignatureDoesNotMatch')
    const unsigned = await errorOf(
      await emulator.app.request(v3Request(clock, { nonce: 'd', extraHeader: true })),
    )
    expect(unsigned.Code).toBe('IncompleteSignature')
    expect((await errorOf(await emulator.app.request(v3Request(clock, { nonce: 'a' })))).Code).toBe(
      'SignatureNonceUsed',
    )
  })
})

describe('emulator: formats and messages as the real service', () => {
  const isXml = (response: Response) =>
    (response.headers.get('content-type') ?? '').startsWith('text/xml')

  it('v1: XML without Format or Accept; JSON by Format or by Accept; errors likewise', async () => {
    const { v1 } = setup()
    expect(isXml(await v1({ format: null }))).toBe(true)
    expect(isXml(await v1({ format: 'JSON' }))).toBe(false)
    const { emulator, clock } = setup()
    const signed = signRpcRequestV1({
      method: 'POST',
      action: 'QueryDSRecord',
      version: '2018-01-29',
      params: { DomainName: 'example.com' },
      credentials: TEST_CREDENTIAL,
      nonce: 'accept-json',
      timestamp: formatRpcTimestamp(clock.now()),
    })
    const params = { ...signed.params }
    delete params.Format
    delete params.Signature
    params.Signature = signatureV1(stringToSignV1('POST', params), TEST_CREDENTIAL.accessKeySecret)
    const byAccept = await emulator.app.request(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(params).toString(),
    })
    expect(isXml(byAccept)).toBe(false)
    expect(await byAccept.json()).toMatchObject({ DSRecordList: [] })
    expect(isXml(await v1({ format: null, secret: 'wrong' }))).toBe(true)
  })

  it('V3 without Format answers JSON (as the generated SDKs expect); Format=XML still gives XML', async () => {
    const { emulator, clock } = setup()
    const plain = await emulator.app.request(
      v3Request(clock, { nonce: 'f1', signedBody: 'DomainName=example.com' }),
    )
    expect(isXml(plain)).toBe(false)
    expect(await plain.json()).toMatchObject({ DSRecordList: [] })
    const asked = await emulator.app.request(
      v3Request(clock, { nonce: 'f2', signedBody: 'DomainName=example.com&Format=XML' }),
    )
    expect(isXml(asked)).toBe(true)
    const wrong = await emulator.app.request(
      v3Request(clock, { nonce: 'f3', signedBody: 'DomainName=example.com', secret: 'x' }),
    )
    expect(isXml(wrong)).toBe(false)
    expect(await wrong.json()).toMatchObject({
      Code: 'SignatureDoesNotMatch',
      Message: expect.stringMatching(
        /^Specified signature does not match our calculation\. server StringToSign is \[ACS3-HMAC-SHA256\n/,
      ),
    })
  })

  it('XML lists nest as the docs show, empty ones included', async () => {
    const { v1, emulator } = setup()
    const empty = await (await v1({ format: null })).text()
    expect(empty).toContain('<DSRecordList></DSRecordList>')
    emulator.account.dsRecords.set('example.com', [
      { keyTag: 1, algorithm: 13, digestType: 2, digest: SHA256_DIGEST.toUpperCase() },
    ])
    const one = await (await v1({ format: null })).text()
    expect(one).toMatch(/<DSRecordList><DSRecord><KeyTag>1<\/KeyTag>.*<\/DSRecord><\/DSRecordList>/)
    emulator.account.dnsHosts.set('S20179H1BBI9test', [
      { dnsName: 'ns1', ips: ['192.0.2.1', '192.0.2.2'] },
    ])
    const hosts = await (
      await v1({ format: null, action: 'QueryDnsHost', params: { InstanceId: 'S20179H1BBI9test' } })
    ).text()
    expect(hosts).toContain(
      '<DnsHostList><DnsHost><DnsName>ns1</DnsName><IpList><ip>192.0.2.1</ip><ip>192.0.2.2</ip></IpList></DnsHost></DnsHostList>',
    )
  })

  it('answers in the real wording: DomainNotExist, ParameterIllegal', async () => {
    const { v1 } = setup()
    expect(await errorOf(await v1({ params: { DomainName: 'unregistered.com' } }))).toMatchObject({
      Code: 'DomainNotExist',
      Message: 'The domain name does not exist.',
    })
    expect(
      await errorOf(
        await v1({
          action: 'SaveSingleTaskForAddingDSRecord',
          params: {
            DomainName: 'x.com',
            KeyTag: 1,
            Algorithm: 99,
            DigestType: 2,
            Digest: SHA256_DIGEST,
          },
        }),
      ),
    ).toMatchObject({ Code: 'ParameterIllegal', Message: 'Parameter illegal.' })
  })
})
