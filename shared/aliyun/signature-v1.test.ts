import { describe, expect, it } from 'vitest'
import { percentEncode } from './percent-encode.ts'
import { flattenParams } from './rpc-params.ts'
import {
  formatRpcTimestamp,
  signatureV1,
  signRpcRequestV1,
  stringToSignV1,
} from './signature-v1.ts'

describe('percentEncode', () => {
  it.each([
    ['a b', 'a%20b'],
    ['*', '%2A'],
    ['~', '~'],
    ["'", '%27'],
    ['!()', '%21%28%29'],
    ['-_.', '-_.'],
    ['é', '%C3%A9'],
    ['中', '%E4%B8%AD'],
    ['😀', '%F0%9F%98%80'],
    ['+/=:&', '%2B%2F%3D%3A%26'],
  ])('encodes %j as %j', (input, expected) => {
    expect(percentEncode(input)).toBe(expected)
  })
})

describe('flattenParams', () => {
  it('flattens lists with 1-based indexes and drops undefined', () => {
    expect(
      flattenParams({
        DomainName: ['a.com', 'b.com'],
        AliyunDns: false,
        KeyTag: 7,
        Lang: undefined,
        Tag: [{ Key: 'k', Value: ['v1', 'v2'] }],
      }),
    ).toEqual({
      'DomainName.1': 'a.com',
      'DomainName.2': 'b.com',
      AliyunDns: 'false',
      KeyTag: '7',
      'Tag.1.Key': 'k',
      'Tag.1.Value.1': 'v1',
      'Tag.1.Value.2': 'v2',
    })
  })
})

describe('signature version 1.0', () => {
  // Published example of the Alibaba Cloud RPC signature documentation (ECS DescribeRegions).
  const published = {
    AccessKeyId: 'testid',
    Action: 'DescribeRegions',
    Format: 'XML',
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
    SignatureVersion: '1.0',
    Timestamp: '2016-02-23T12:46:24Z',
    Version: '2014-05-26',
  }

  it('reproduces the published StringToSign and signature', () => {
    const stringToSign = stringToSignV1('GET', published)
    expect(stringToSign).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    )
    expect(signatureV1(stringToSign, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=')
  })

  it('signs a whole request the same way and appends the encoded Signature last', () => {
    const signed = signRpcRequestV1({
      method: 'GET',
      action: 'DescribeRegions',
      version: '2014-05-26',
      params: {},
      credentials: { accessKeyId: 'testid', accessKeySecret: 'testsecret' },
      nonce: published.SignatureNonce,
      timestamp: published.Timestamp,
      format: 'XML',
    })
    expect(signed.params.Signature).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=')
    expect(signed.encoded.endsWith('&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D')).toBe(true)
  })

  it('signs POST differently from GET and includes the STS token', () => {
    const base = {
      action: 'QueryDSRecord',
      version: '2018-01-29',
      params: { DomainName: 'example.com' },
      nonce: 'n',
      timestamp: '2026-01-01T00:00:00Z',
    }
    const credentials = { accessKeyId: 'id', accessKeySecret: 'secret' }
    const get = signRpcRequestV1({ ...base, method: 'GET', credentials })
    const post = signRpcRequestV1({ ...base, method: 'POST', credentials })
    const sts = signRpcRequestV1({
      ...base,
      method: 'POST',
      credentials: { ...credentials, securityToken: 'token' },
    })
    expect(get.params.Signature).not.toBe(post.params.Signature)
    expect(post.stringToSign.startsWith('POST&%2F&')).toBe(true)
    expect(sts.params.SecurityToken).toBe('token')
    expect(sts.stringToSign).toContain('SecurityToken%3Dtoken')
  })

  it('formats timestamps without milliseconds', () => {
    expect(formatRpcTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).toBe('2026-01-02T03:04:05Z')
  })
})
