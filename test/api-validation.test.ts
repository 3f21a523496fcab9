import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SHA256_DIGEST } from './helpers/emulator.ts'
import { type Harness, postJson, startHarness } from './helpers/gateway.ts'

let h: Harness
beforeAll(async () => {
  h = await startHarness({ env: { CALLBACK_ALLOW_HTTP: 'false', API_MAX_BODY_BYTES: '4096' } })
})
afterAll(() => h.close())

const ds = { keyTag: 1, algorithm: 13, digestType: 2, digest: SHA256_DIGEST }

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const body = (await response.json()) as {
    status: number
    errors?: { path: string; message: string }[]
  }
  expect(body.status).toBe(response.status)
  return body
}

async function expectInvalid(response: Response, path: string, message: RegExp) {
  expect(response.status).toBe(422)
  const body = await problemOf(response)
  expect(body.errors).toEqual(
    expect.arrayContaining([{ path, message: expect.stringMatching(message) }]),
  )
}

const emulatorTaskCount = () => h.emulator.account.tasks.size

describe('domain names', () => {
  it('lower-cases, drops one trailing dot and converts IDN to punycode', async () => {
    const response = await h.request(
      `/domains/${encodeURIComponent('Bücher.COM.')}/ds`,
      postJson(ds),
    )
    expect(response.status).toBe(202)
    expect(((await response.json()) as { domains: string[] }).domains).toEqual([
      'xn--bcher-kva.com',
    ])
  })

  it.each([
    [`${'a'.repeat(64)}.com`, /longer than 63/],
    [`${'abcdefghi.'.repeat(26)}com`, /longer than 253/],
    ['a..com', /empty label/],
    ['-bad.com', /invalid label/],
    ['bad-.com', /invalid label/],
    ['localhost', /at least two labels/],
    ['under_score.com', /invalid label/],
    ['ab--cd.com', /reserved hyphens/],
    ['example.123', /all-numeric/],
  ])('refuses %s', async (name, message) => {
    await expectInvalid(await h.request(`/domains/${name}/ds`, postJson(ds)), 'path.name', message)
  })
})

describe('DS records', () => {
  it.each([
    [{ ...ds, keyTag: 65_536 }, 'body.keyTag', /0 to 65535/],
    [{ ...ds, keyTag: -1 }, 'body.keyTag', /0 to 65535/],
    [{ ...ds, keyTag: 1.5 }, 'body.keyTag', /integer/],
    [{ ...ds, algorithm: 4 }, 'body.algorithm', /must be one of 1, 2, 3, 5/],
    [{ ...ds, digestType: 5 }, 'body.digestType', /digest type must be/],
    [{ ...ds, digest: SHA256_DIGEST.slice(0, 40) }, 'body.digest', /has 64 hex characters, not 40/],
    [{ ...ds, digestType: 4 }, 'body.digest', /has 96 hex characters/],
    [{ ...ds, digest: 'zz'.repeat(32) }, 'body.digest', /hexadecimal/],
    [{ ...ds, colour: 'red' }, 'body', /Unrecognized key/i],
    [{ dnskey: '257 3 13 AAAA', digestType: 3 }, 'body.digestType', /./],
  ])('refuses %j', async (body, path, message) => {
    await expectInvalid(await h.request('/domains/ds-rules.com/ds', postJson(body)), path, message)
  })

  it('requires a key tag on POST and matching key tags on PUT', async () => {
    const { keyTag: _omit, ...withoutTag } = ds
    await expectInvalid(
      await h.request('/domains/ds-rules.com/ds', postJson(withoutTag)),
      'body.keyTag',
      /required/,
    )
    await expectInvalid(
      await h.request('/domains/ds-rules.com/ds/2', { method: 'PUT', body: JSON.stringify(ds) }),
      'body.keyTag',
      /path says 2/,
    )
  })

  it.each(['65536', '-1', 'abc', '1e3'])('refuses key tag %s in the path', async (tag) => {
    await expectInvalid(
      await h.request(`/domains/ds-rules.com/ds/${tag}`, { method: 'DELETE' }),
      'path.keyTag',
      /./,
    )
  })

  it('answers a misspelt field for the shape the caller meant, naming the field meant', async () => {
    const { digestType, ...rest } = ds
    const response = await h.request(
      '/domains/ds-rules.com/ds',
      postJson({ ...rest, digestTyp: digestType }),
    )
    expect(response.status).toBe(422)
    // Only the DS-record shape's answer: nothing about dnskey, no list of the other shape's keys.
    expect((await problemOf(response)).errors).toEqual([
      { path: 'body.digestTyp', message: 'unknown field; did you mean "digestType"?' },
    ])
    const dnskey = await h.request(
      '/domains/ds-rules.com/ds',
      postJson({ dnskey: '257 3 13 AAAA', digestTyp: 2, callbackURL: 'https://x.example' }),
    )
    expect((await problemOf(dnskey)).errors).toEqual([
      { path: 'body.digestTyp', message: 'unknown field; did you mean "digestType"?' },
      { path: 'body.callbackURL', message: 'unknown field; did you mean "callbackUrl"?' },
    ])
  })

  it('refuses an unusable DNSKEY with the reason', async () => {
    await expectInvalid(
      await h.request('/domains/ds-rules.com/ds', postJson({ dnskey: '257 2 13 AAAAAAAA' })),
      'body.dnskey',
      /protocol must be 3/,
    )
  })
})

describe('name server batches', () => {
  const ns = ['ns1.example.net', 'ns2.example.net']
  it.each([
    [{ domains: ['a.com'], aliyunDns: false }, 'body.nameServers', /needs nameServers/],
    [
      { domains: ['a.com'], aliyunDns: true, nameServers: ns },
      'body.nameServers',
      /takes no nameServers/,
    ],
    [
      { domains: ['a.com'], aliyunDns: false, nameServers: ['ns1.example.net'] },
      'body.nameServers',
      /2 to 13/,
    ],
    [
      {
        domains: ['a.com'],
        aliyunDns: false,
        nameServers: Array.from({ length: 14 }, (_, i) => `ns${i}.example.net`),
      },
      'body.nameServers',
      /2 to 13/,
    ],
    [
      { domains: ['a.com'], aliyunDns: false, nameServers: ['ns1.example.net', 'bad host'] },
      'body.nameServers.1',
      /./,
    ],
    [{ domains: [], aliyunDns: true }, 'body.domains', /at least one/],
    [
      { domains: Array.from({ length: 101 }, (_, i) => `d${i}.com`), aliyunDns: true },
      'body.domains',
      /at most 100/,
    ],
    [{ domains: ['a.com', 'A.com.'], aliyunDns: true }, 'body.domains.1', /listed twice/],
    [
      { domains: ['a.com'], aliyunDns: false, nameServers: ['ns1.example.net', 'NS1.example.net'] },
      'body.nameServers.1',
      /listed twice/,
    ],
    [{ domains: ['a.com'], aliyunDns: 'yes' }, 'body.aliyunDns', /./],
  ])('refuses %j', async (body, path, message) => {
    await expectInvalid(await h.request('/dns-batch', postJson(body)), path, message)
  })

  it('accepts exactly 100 domains', async () => {
    const domains = Array.from({ length: 100 }, (_, i) => `hundred-${i}.com`)
    expect((await h.request('/dns-batch', postJson({ domains, aliyunDns: true }))).status).toBe(202)
  })
})

describe('instances, bodies and headers', () => {
  it('refuses a malformed instance id', async () => {
    await expectInvalid(
      await h.request('/instances/not-an-instance/dns-hosts/sync', { method: 'POST' }),
      'path.instanceId',
      /ST2017120814571100001303/,
    )
  })

  it('answers 413 for a body over the limit, before touching upstream', async () => {
    const before = emulatorTaskCount()
    const response = await h.request(
      '/dns-batch',
      postJson({ domains: ['a.com'], aliyunDns: true, pad: 'x'.repeat(5000) }),
    )
    expect(response.status).toBe(413)
    await problemOf(response)
    expect(emulatorTaskCount()).toBe(before)
  })

  it('answers 415 for a body that is not JSON and 400 for malformed JSON', async () => {
    const wrongType = await h.request('/dns-batch', {
      method: 'POST',
      body: 'domains=a.com',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(wrongType.status).toBe(415)
    await problemOf(wrongType)
    const malformed = await h.request('/dns-batch', { method: 'POST', body: '{"domains": [' })
    expect(malformed.status).toBe(400)
    expect(await problemOf(malformed)).toMatchObject({ title: 'Malformed JSON' })
    const missing = await h.request('/dns-batch', { method: 'POST' })
    expect(missing.status).toBe(422)
  })

  it('accepts application/json with a charset and +json types', async () => {
    const response = await h.request('/domains/charset.com/ds/sync', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    })
    expect(response.status).toBe(202)
  })

  it('refuses callback URLs that are not absolute http(s) URLs (422)', async () => {
    for (const url of ['ftp://hooks.example.com/x', 'not a url', '/relative']) {
      const response = await h.request('/domains/cb.com/ds/sync', postJson({ callbackUrl: url }))
      expect(response.status, url).toBe(422)
    }
  })

  it('refuses plain http here and URLs with credentials (400, callback-url-refused)', async () => {
    for (const url of ['http://hooks.example.com/x', 'https://user:pw@hooks.example.com/x']) {
      const response = await h.request('/domains/cb.com/ds/sync', postJson({ callbackUrl: url }))
      expect(response.status, url).toBe(400)
      expect(await response.json()).toMatchObject({ type: '/docs#problem-callback-url-refused' })
    }
  })

  it('refuses a malformed Idempotency-Key', async () => {
    const response = await h.request(
      '/domains/idem.com/ds/sync',
      postJson({}, { 'idempotency-key': 'x'.repeat(300) }),
    )
    await expectInvalid(response, 'header.Idempotency-Key', /./)
  })

  it('writes nothing for a refused request', async () => {
    const before = emulatorTaskCount()
    await h.request('/domains/nothing.com/ds', postJson({ ...ds, algorithm: 4 }))
    expect(emulatorTaskCount()).toBe(before)
    const tasks = (await (await h.request('/tasks?domain=nothing.com')).json()) as {
      items: unknown[]
    }
    expect(tasks.items).toEqual([])
  })
})
