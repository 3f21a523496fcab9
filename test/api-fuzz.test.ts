import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHA256_DIGEST } from './helpers/emulator.ts'
import { ADMIN_KEY, type Harness, startHarness } from './helpers/gateway.ts'

/** Random and mutated requests at every route: whatever comes in, no answer is a 5xx. */
let h: Harness
beforeAll(async () => {
  h = await startHarness({ emulatorTaskMs: 20 })
})
afterAll(() => h.close())

const segment = fc.oneof(
  fc.constantFrom(
    'example.com',
    'Bücher.de',
    'a..b',
    '..',
    '%2e%2e',
    '%00',
    'ST2017120814571100001303',
    '65535',
    '1e3',
    '-1',
    'sync',
    'tsk_x',
    'chg_abcdefghijklmnop',
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent),
  fc.string({ minLength: 250, maxLength: 400 }).map(encodeURIComponent),
  // Longer than any DynamoDB key may be: must never reach the store.
  fc.stringMatching(/^[A-Za-z0-9_]{2000,2200}$/),
)
const templates = [
  (a: string) => `/domains/${a}/ds`,
  (a: string, b: string) => `/domains/${a}/ds/${b}`,
  (a: string) => `/domains/${a}/ds/sync`,
  (a: string) => `/domains/${a}/ds?dryRun=true`,
  (a: string) => `/domains/${a}/name-servers`,
  (a: string) => `/domains/${a}/drift`,
  (a: string) => `/changes/${a}`,
  (a: string) => `/instances/${a}/dns-hosts/sync`,
  () => '/dns-batch',
  () => '/tasks',
  (a: string) => `/tasks/${a}`,
  (a: string) => `/tasks/${a}/deliveries`,
  (a: string) => `/tasks/${a}/deliveries/redeliver`,
  (a: string) => `/tasks?cursor=${a}`,
  (a: string) =>
    `/tasks?cursor=${Buffer.from(JSON.stringify({ gsi1pk: a })).toString('base64url')}`,
  () => '/admin/keys',
  (a: string) => `/admin/keys/${a}`,
  (a: string) => `/admin/keys/${a}/webhook-secret/rotate`,
  (a: string) => `/${a}`,
]
const path = fc
  .tuple(
    fc.nat(templates.length - 1),
    segment,
    segment,
    fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }))),
  )
  .map(([index, a, b, query]) => {
    const base = (templates[index] as (a: string, b: string) => string)(a, b)
    return query ? `${base}?${new URLSearchParams(query)}` : base
  })

const validBodies = [
  { keyTag: 1, algorithm: 13, digestType: 2, digest: SHA256_DIGEST },
  {
    dnskey:
      '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
  },
  {
    domains: ['a.com', 'b.com'],
    aliyunDns: false,
    nameServers: ['ns1.example.net', 'ns2.example.net'],
  },
  { tenant: 'fuzz', scopes: ['tasks:read'] },
  { records: [{ keyTag: 1, algorithm: 13, digestType: 2, digest: SHA256_DIGEST }], repair: true },
  { records: [], allowEmpty: true },
  { aliyunDns: false, nameServers: ['ns1.example.net', 'ns2.example.net'] },
  { callbackUrl: 'https://hooks.example.com/x' },
]
const mutated = fc
  .tuple(fc.constantFrom(...validBodies), fc.string({ maxLength: 12 }), fc.jsonValue())
  .map(([body, key, value]) => {
    const keys = Object.keys(body)
    const target =
      keys.length > 0 && key.length % 2 === 0 ? (keys[key.length % keys.length] as string) : key
    return JSON.stringify({ ...body, [target]: value })
  })
const hostile = fc.constantFrom(
  '{"__proto__": {"admin": true}, "keyTag": 1}',
  '{"constructor": {"prototype": {"x": 1}}}',
  `${'['.repeat(5000)}${']'.repeat(5000)}`,
  '{"keyTag": 1e400, "algorithm": 13, "digestType": 2, "digest": "aa"}',
  '{"keyTag": 99999999999999999999999, "algorithm": -0, "digestType": 2}',
  '\uFEFF{}',
  '\u0000',
  'null',
  '"string"',
  '{"domains": "a.com", "aliyunDns": true}',
)
const body = fc.option(
  fc.oneof(
    mutated,
    hostile,
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.string({ maxLength: 200 }),
    fc.constantFrom(...validBodies.map((value) => JSON.stringify(value))),
  ),
  { nil: undefined },
)
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  maxLength: 60,
})
const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/json; charset=utf-8',
      'application/merge-patch+json',
      '',
    ),
    'idempotency-key': printable,
    authorization: fc.oneof(
      fc.constant('VALID'),
      fc.constant('ADMIN'),
      printable.map((value) => `Bearer ${value}`),
      printable,
    ),
    'x-request-id': printable,
  },
  { requiredKeys: ['authorization'] },
)
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS')

describe('fuzzing every route', () => {
  it('never answers 5xx, and every error is problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(method, path, headers, body, async (verb, target, rawHeaders, payload) => {
        const sent: Record<string, string> = {}
        for (const [name, value] of Object.entries(rawHeaders)) {
          if (value === undefined || value === '') continue
          sent[name] =
            value === 'VALID'
              ? `Bearer ${h.key}`
              : value === 'ADMIN'
                ? `Bearer ${ADMIN_KEY}`
                : value
        }
        const canHaveBody = verb !== 'GET' && verb !== 'HEAD'
        const response = await h.request(target, {
          method: verb,
          headers: sent,
          key: null,
          ...(canHaveBody && payload !== undefined ? { body: payload } : {}),
        })
        expect(response.status, `${verb} ${target}`).toBeLessThan(500)
        if (response.status >= 400 && verb !== 'HEAD') {
          expect(response.headers.get('content-type')).toBe('application/problem+json')
        }
      }),
      { numRuns: 400 },
    )
  })
})
