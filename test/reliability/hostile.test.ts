import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHA256_DIGEST } from '../helpers/emulator.ts'
import { ADMIN_KEY, ReliabilityStack } from './stack.ts'

/** A corpus of hostile requests, sent raw over HTTP, each with the status it must get. */
const stack = new ReliabilityStack()
let key = ''
beforeAll(async () => {
  await stack.start()
  key = (await stack.newKey('hostile', ['ds:write', 'dns:write', 'sync:write', 'tasks:read'])).key
})
afterAll(() => stack.stop())

interface Case {
  readonly name: string
  readonly method: string
  readonly path: string
  readonly body?: string | Buffer
  readonly headers?: Record<string, string>
  readonly status: number
}

const valid = { keyTag: 1, algorithm: 13, digestType: 2, digest: SHA256_DIGEST }
const json = (value: unknown) => JSON.stringify(value)

const CASES: Case[] = [
  {
    name: 'oversized body (1 MiB)',
    method: 'POST',
    path: '/dns-batch',
    body: json({ domains: ['a.com'], aliyunDns: true, pad: 'x'.repeat(1 << 20) }),
    status: 413,
  },
  {
    name: 'deeply nested arrays',
    method: 'POST',
    path: '/dns-batch',
    body: `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
    status: 422,
  },
  {
    name: 'deeply nested objects',
    method: 'POST',
    path: '/dns-batch',
    body: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`,
    status: 422,
  },
  {
    name: 'invalid UTF-8 inside a JSON string',
    method: 'POST',
    path: '/domains/utf8.com/ds',
    body: Buffer.concat([
      Buffer.from('{"keyTag":1,"algorithm":13,"digestType":2,"digest":"'),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
      Buffer.from('"}'),
    ]),
    status: 422,
  },
  {
    name: 'invalid UTF-8 as the whole body',
    method: 'POST',
    path: '/dns-batch',
    body: Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x80]),
    status: 400,
  },
  {
    name: 'truncated JSON',
    method: 'POST',
    path: '/dns-batch',
    body: '{"domains": ["a.com"',
    status: 400,
  },
  { name: 'JSON null', method: 'POST', path: '/dns-batch', body: 'null', status: 422 },
  { name: 'JSON array', method: 'POST', path: '/dns-batch', body: '[1,2,3]', status: 422 },
  // A UTF-8 byte order mark is dropped by the decoder (RFC 8259 lets parsers ignore it).
  {
    name: 'byte order mark before JSON',
    method: 'POST',
    path: '/domains/bom.com/ds/sync',
    body: '\uFEFF{}',
    status: 202,
  },
  {
    name: 'prototype pollution via __proto__',
    method: 'POST',
    path: '/domains/proto.com/ds',
    body: `{"__proto__":{"admin":true},${json(valid).slice(1)}`,
    status: 422,
  },
  {
    name: 'prototype pollution via constructor.prototype',
    method: 'POST',
    path: '/domains/proto.com/ds',
    body: json({ ...valid, constructor: { prototype: { admin: true } } }),
    status: 422,
  },
  {
    name: 'huge number (1e400 overflows to Infinity)',
    method: 'POST',
    path: '/domains/big.com/ds',
    body: `{"keyTag":1e400,"algorithm":13,"digestType":2,"digest":"${SHA256_DIGEST}"}`,
    status: 422,
  },
  {
    name: 'huge integer beyond 2^53',
    method: 'POST',
    path: '/domains/big.com/ds',
    body: `{"keyTag":99999999999999999999999,"algorithm":13,"digestType":2,"digest":"${SHA256_DIGEST}"}`,
    status: 422,
  },
  {
    name: 'negative zero algorithm',
    method: 'POST',
    path: '/domains/big.com/ds',
    body: `{"keyTag":1,"algorithm":-0,"digestType":2,"digest":"${SHA256_DIGEST}"}`,
    status: 422,
  },
  {
    name: 'number as string',
    method: 'POST',
    path: '/domains/big.com/ds',
    body: json({ ...valid, algorithm: '13' }),
    status: 422,
  },
  {
    name: 'duplicate keys (the last, invalid one wins)',
    method: 'POST',
    path: '/domains/dup.com/ds',
    body: `{"keyTag":1,"keyTag":70000,"algorithm":13,"digestType":2,"digest":"${SHA256_DIGEST}"}`,
    status: 422,
  },
  {
    name: 'form body',
    method: 'POST',
    path: '/dns-batch',
    body: 'domains=a.com',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
  },
  {
    name: 'JSON sent as text/plain',
    method: 'POST',
    path: '/dns-batch',
    body: json({ domains: ['a.com'], aliyunDns: true }),
    headers: { 'content-type': 'text/plain' },
    status: 415,
  },
  {
    name: 'path traversal in a domain',
    method: 'POST',
    path: '/domains/..%2F..%2Fetc%2Fpasswd/ds/sync',
    status: 422,
  },
  {
    name: 'dot segments to reach the admin API',
    method: 'GET',
    path: '/tasks/../admin/keys',
    status: 401,
  },
  {
    name: 'encoded dot segments (normalised like ..)',
    method: 'GET',
    path: '/tasks/%2e%2e/admin/keys',
    status: 401,
  },
  { name: 'NUL byte in a domain', method: 'POST', path: '/domains/a%00b.com/ds/sync', status: 422 },
  {
    name: 'CRLF in a domain',
    method: 'POST',
    path: '/domains/a%0d%0aSet-Cookie:x.com/ds/sync',
    status: 422,
  },
  {
    name: 'very long domain',
    method: 'POST',
    path: `/domains/${'a'.repeat(8_000)}.com/ds/sync`,
    status: 422,
  },
  { name: 'key tag with exponent', method: 'DELETE', path: '/domains/tag.com/ds/1e3', status: 422 },
  { name: 'key tag in hex', method: 'DELETE', path: '/domains/tag.com/ds/0x10', status: 422 },
  {
    name: 'non-ASCII idempotency key',
    method: 'POST',
    path: '/domains/idem.com/ds/sync',
    headers: { 'idempotency-key': 'schlüssel' },
    status: 422,
  },
  {
    name: 'unknown query parameter',
    method: 'GET',
    path: '/tasks?__proto__[admin]=1',
    status: 422,
  },
  {
    name: 'SQL and script in a filter',
    method: 'GET',
    path: '/tasks?domain=%27%20OR%201%3D1--%3Cscript%3E',
    status: 422,
  },
  {
    name: 'method override header is ignored',
    method: 'GET',
    path: '/dns-batch',
    headers: { 'x-http-method-override': 'POST' },
    status: 405,
  },
  { name: 'TRACE', method: 'TRACE', path: '/tasks', status: 405 },
  {
    name: 'a hand-made cursor of your own tenant (missing keys, no seal)',
    method: 'GET',
    path: '/tasks?cursor=eyJnc2kxcGsiOiJURU5BTlQjaG9zdGlsZSJ9',
    status: 422,
  },
  {
    name: 'a task id of 2 100 characters on the deliveries route',
    method: 'GET',
    path: `/tasks/tsk_${'a'.repeat(2_100)}/deliveries`,
    status: 404,
  },
  {
    name: 'a task id of 2 100 characters on redeliver',
    method: 'POST',
    path: `/tasks/tsk_${'a'.repeat(2_100)}/deliveries/redeliver`,
    status: 404,
  },
  {
    name: 'a DNSKEY with an algorithm the registry does not list (99)',
    method: 'POST',
    path: '/domains/alg99.com/ds',
    body: json({
      dnskey:
        '257 3 99 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
    }),
    status: 422,
  },
  {
    name: 'a top-level label of full-width digits',
    method: 'POST',
    path: `/domains/${encodeURIComponent('1.2.3.４')}/ds/sync`,
    status: 422,
  },
  {
    name: 'GET /tasks/ (trailing slash)',
    method: 'GET',
    path: '/tasks/',
    status: 404,
  },
]

function send(
  testCase: Case,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(stack.apiUrl)
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: testCase.method,
        path: testCase.path,
        agent: false,
        headers: {
          authorization: `Bearer ${key}`,
          ...(testCase.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...testCase.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
      },
    )
    req.on('error', reject)
    req.end(testCase.body)
  })
}

describe('hostile requests', () => {
  it.each(CASES.map((testCase) => [testCase.name, testCase] as const))(
    '%s',
    async (_name, testCase) => {
      const before = stack.emulator.account.tasks.size
      const response = await send(testCase)
      expect(response.status, response.body.slice(0, 300)).toBe(testCase.status)
      if (testCase.status === 202) return
      expect(response.headers['content-type']).toBe('application/problem+json')
      expect(response.body).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/)
      expect(response.headers['set-cookie']).toBeUndefined()
      expect(stack.emulator.account.tasks.size).toBe(before)
    },
  )

  it('a tenant flooding reads that reach Alibaba, and submissions, gets 429 past its limits; another tenant does not', async () => {
    const admin = { authorization: `Bearer ${ADMIN_KEY}` }
    const limits = await send({
      name: 'limits',
      method: 'PUT',
      path: '/admin/tenants/flood',
      body: json({ domains: ['*'], instances: ['*'], limits: { upstreamReads: 20, writes: 10 } }),
      headers: admin,
      status: 200,
    })
    expect(limits.status, limits.body).toBe(200)
    const flood = (await stack.newKey('flood', ['ds:write', 'tasks:read'])).key
    const as = (who: string) => ({ authorization: `Bearer ${who}` })
    const before = stack.emulator.account.tasks.size
    const reads = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        send({
          name: 'read',
          method: 'GET',
          path: `/domains/flood-${i % 7}.com/ds`,
          headers: as(flood),
          status: 200,
        }),
      ),
    )
    const ok = reads.filter((answer) => answer.status === 200).length
    const limited = reads.filter((answer) => answer.status === 429)
    // 20 a minute: 40 at most if the burst straddles a minute's end.
    expect(ok).toBeGreaterThanOrEqual(20)
    expect(ok).toBeLessThanOrEqual(40)
    expect(ok + limited.length).toBe(120)
    for (const answer of limited) {
      expect(answer.headers['content-type']).toBe('application/problem+json')
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0)
      expect(String(answer.headers['ratelimit-policy'])).toBe('"upstreamReads";q=20;w=60')
      expect(String(answer.headers.ratelimit)).toMatch(/^"upstreamReads";r=0;t=\d+$/)
    }
    const writes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        send({
          name: 'write',
          method: 'POST',
          path: `/domains/flood-write-${i}.com/ds`,
          body: json({ ...valid, keyTag: 100 + i }),
          headers: as(flood),
          status: 202,
        }),
      ),
    )
    const accepted = writes.filter((answer) => answer.status === 202).length
    expect(accepted).toBeGreaterThanOrEqual(10)
    expect(accepted).toBeLessThanOrEqual(20)
    expect(writes.filter((answer) => answer.status === 429).length).toBe(30 - accepted)
    // A refused submission sent nothing upstream.
    expect(stack.emulator.account.tasks.size - before).toBe(accepted)
    // The other tenant's reads go through.
    const other = await send({
      name: 'other',
      method: 'GET',
      path: '/domains/flood-0.com/ds',
      status: 200,
    })
    expect(other.status).toBe(200)
  })

  it('left Object.prototype untouched', () => {
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
  })

  it('never logged a secret', () => {
    expect(stack.leakedSecrets()).toEqual([])
  })
})
