import { describe, expect, it } from 'vitest'
import {
  canonicalRequestV3,
  parseV3Authorization,
  sha256Hex,
  signatureV3,
  signRequestV3,
  stringToSignV3,
} from './signature-v3.ts'

describe('V3 signature (ACS3-HMAC-SHA256)', () => {
  // The published example of the V3 signature documentation (ECS RunInstances, empty body).
  const headers = {
    host: 'ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action': 'RunInstances',
    'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'x-acs-date': '2023-10-26T09:01:01Z',
    'x-acs-signature-nonce': 'd410180a5abf7fe235dd9b74aca91fc0',
    'x-acs-version': '2014-05-26',
  }

  it('reproduces the published signature', () => {
    const canonical = canonicalRequestV3({
      method: 'POST',
      query: {
        ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd',
        RegionId: 'cn-shanghai',
      },
      headers,
      signedHeaders: Object.keys(headers),
      bodySha256Hex: sha256Hex(''),
    })
    expect(signatureV3(stringToSignV3(canonical), 'YourAccessKeySecret')).toBe(
      'e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804',
    )
  })

  it('builds the Authorization header the published way', () => {
    const signed = signRequestV3({
      method: 'POST',
      host: headers.host,
      action: 'RunInstances',
      version: '2014-05-26',
      query: {
        ImageId: 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd',
        RegionId: 'cn-shanghai',
      },
      body: '',
      credentials: { accessKeyId: 'YourAccessKeyId', accessKeySecret: 'YourAccessKeySecret' },
      nonce: headers['x-acs-signature-nonce'],
      date: headers['x-acs-date'],
    })
    expect(signed.headers.authorization).toBe(
      'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804',
    )
  })

  it('signs the body hash, content type and STS token when present', () => {
    const signed = signRequestV3({
      method: 'POST',
      host: 'domain.aliyuncs.com',
      action: 'QueryDSRecord',
      version: '2018-01-29',
      query: {},
      body: 'DomainName=example.com',
      contentType: 'application/x-www-form-urlencoded',
      credentials: { accessKeyId: 'id', accessKeySecret: 's', securityToken: 'sts' },
      nonce: 'n',
      date: '2026-01-01T00:00:00Z',
    })
    expect(signed.headers['x-acs-content-sha256']).toBe(sha256Hex('DomainName=example.com'))
    const parsed = parseV3Authorization(signed.headers.authorization as string)
    expect(parsed?.signedHeaders).toEqual([
      'content-type',
      'host',
      'x-acs-action',
      'x-acs-content-sha256',
      'x-acs-date',
      'x-acs-security-token',
      'x-acs-signature-nonce',
      'x-acs-version',
    ])
  })

  it('rejects malformed Authorization headers', () => {
    expect(parseV3Authorization('ACS3-HMAC-SHA256 Credential=a')).toBeUndefined()
    expect(parseV3Authorization('Bearer x')).toBeUndefined()
  })
})
