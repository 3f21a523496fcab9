import { createRequire } from 'node:module'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { flattenParams, type RpcParamValue } from '#shared/aliyun/rpc-params.ts'
import { formatRpcTimestamp, signRpcRequestV1 } from '#shared/aliyun/signature-v1.ts'
import { startCaptureServer } from './helpers/capture-server.ts'
import { clientFor, SHA256_DIGEST } from './helpers/emulator.ts'

/**
 * The official @alicloud/pop-core is the oracle: for the same nonce and timestamp, the request
 * we sign must be byte-for-byte the request it sends.
 */
const require = createRequire(import.meta.url)
const RPCClient = require('@alicloud/pop-core').RPCClient as new (
  config: Record<string, unknown>,
) => { request(action: string, params: object, opts?: object): Promise<unknown> }
const kitx = require('kitx') as { makeNonce: () => string }

const FIXED_NOW = Date.UTC(2026, 10, 22, 8, 30, 15)
const FIXED_NONCE = 'fixed-nonce-0001'
const credentials = { accessKeyId: 'LTAIoracle', accessKeySecret: 'oracle-secret' }
const COMMON = new Set([
  'Action',
  'Format',
  'Timestamp',
  'Version',
  'AccessKeyId',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'Signature',
  'SecurityToken',
])

let capture: Awaited<ReturnType<typeof startCaptureServer>>
const originalNonce = kitx.makeNonce

beforeAll(async () => {
  capture = await startCaptureServer()
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(FIXED_NOW)
  kitx.makeNonce = () => FIXED_NONCE
})

afterAll(async () => {
  kitx.makeNonce = originalNonce
  vi.useRealTimers()
  await capture.close()
})

async function popCoreWire(
  method: 'GET' | 'POST',
  action: string,
  params: Record<string, unknown>,
  securityToken?: string,
) {
  const client = new RPCClient({
    endpoint: capture.url,
    apiVersion: '2018-01-29',
    ...credentials,
    securityToken,
  })
  capture.requests.length = 0
  await client.request(action, params, { method, formatParams: false })
  const request = capture.requests[0]!
  return method === 'POST' ? request.body : request.url.slice(2)
}

const name = fc
  .stringMatching(/^[A-Z][A-Za-z0-9]{0,10}$/)
  .filter((candidate) => !COMMON.has(candidate))
const tricky = fc.constantFrom(
  '*',
  '~',
  "'",
  ' ',
  '+',
  '/',
  '&',
  '=',
  '%',
  '中文',
  'é',
  '😀',
  '!()',
)
const scalar: fc.Arbitrary<RpcParamValue> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc
    .array(fc.oneof(tricky, fc.string({ maxLength: 4 })), { maxLength: 5 })
    .map((parts) => parts.join('')),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.boolean(),
)
const value: fc.Arbitrary<RpcParamValue> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { minLength: 1, maxLength: 12 }) },
)
const paramSets = fc.dictionary(name, value, { maxKeys: 8 })

describe('signature v1 equals @alicloud/pop-core', () => {
  for (const method of ['GET', 'POST'] as const) {
    it(`over generated parameter sets (${method})`, async () => {
      await fc.assert(
        fc.asyncProperty(paramSets, fc.boolean(), async (params, withToken) => {
          const token = withToken ? 'sts-token/with+chars=' : undefined
          const theirs = await popCoreWire(method, 'QueryTaskList', params, token)
          const ours = signRpcRequestV1({
            method,
            action: 'QueryTaskList',
            version: '2018-01-29',
            params: flattenParams(params),
            credentials: { ...credentials, securityToken: token },
            nonce: FIXED_NONCE,
            timestamp: formatRpcTimestamp(FIXED_NOW),
          })
          expect(ours.encoded).toBe(theirs)
        }),
        { numRuns: 150 },
      )
    })
  }

  it('sends the same wire request from the typed client (POST and GET)', async () => {
    for (const method of ['POST', 'GET'] as const) {
      const client = clientFor(
        capture,
        {
          ALIYUN_ACCESS_KEY_ID: credentials.accessKeyId,
          ALIYUN_ACCESS_KEY_SECRET: credentials.accessKeySecret,
          ALIYUN_HTTP_METHOD: method,
        },
        { now: () => FIXED_NOW, nonce: () => FIXED_NONCE },
      )
      capture.requests.length = 0
      await client.modifyDomainDnsBatch({
        domainNames: ['a.example.com', 'b.example.com'],
        aliyunDns: false,
        nameServers: ['ns1.example.net', 'ns2.example.net'],
      })
      await client.addDsRecord({
        domainName: 'example.com',
        keyTag: 2371,
        algorithm: 13,
        digestType: 2,
        digest: SHA256_DIGEST,
      })
      const ours = capture.requests.map((r) => (method === 'POST' ? r.body : r.url.slice(2)))
      const theirs = [
        await popCoreWire(method, 'SaveBatchTaskForModifyingDomainDns', {
          AliyunDns: false,
          DomainName: ['a.example.com', 'b.example.com'],
          DomainNameServer: ['ns1.example.net', 'ns2.example.net'],
        }),
        await popCoreWire(method, 'SaveSingleTaskForAddingDSRecord', {
          DomainName: 'example.com',
          KeyTag: 2371,
          Algorithm: 13,
          DigestType: 2,
          Digest: SHA256_DIGEST,
        }),
      ]
      expect(ours).toEqual(theirs)
    }
  })
})
