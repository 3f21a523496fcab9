import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cachedKeyLookup } from '#shared/auth/api-key-cache.ts'
import type { ApiKey } from '#shared/auth/api-keys.ts'
import { apiKeyId } from '#shared/auth/api-keys.ts'
import { ADMIN_KEY, type Harness, startHarness } from './helpers/gateway.ts'

/** A clock the test moves by hand. */
let clock = Date.parse('2026-11-23T12:00:00Z')
const now = () => clock

describe('the API key cache (unit)', () => {
  const key = { id: 'k1', revokedAt: undefined } as unknown as ApiKey
  it('reads the store once per ttl, for unknown ids too, and forgets on demand', async () => {
    let reads = 0
    const lookup = cachedKeyLookup(
      async (id) => {
        reads++
        return id === 'k1' ? key : undefined
      },
      { ttlMs: 5_000, now },
    )
    await lookup.get('k1')
    await lookup.get('k1')
    expect(reads).toBe(1)
    clock += 4_999
    await lookup.get('k1')
    expect(reads).toBe(1)
    clock += 1
    await lookup.get('k1')
    expect(reads).toBe(2)
    // An unknown id costs what a known one does: one read per ttl.
    await lookup.get('nope')
    await lookup.get('nope')
    expect(reads).toBe(3)
    lookup.forget('k1')
    await lookup.get('k1')
    expect(reads).toBe(4)
  })

  it('keeps at most maxEntries keys, and reads every time with ttl 0', async () => {
    let reads = 0
    const read = async (id: string) => {
      reads++
      return { ...key, id }
    }
    const small = cachedKeyLookup(read, { ttlMs: 60_000, now, maxEntries: 2 })
    for (const id of ['a', 'b', 'c', 'a']) await small.get(id)
    expect(reads).toBe(4) // 'a' was pushed out by 'c'
    reads = 0
    const off = cachedKeyLookup(read, { ttlMs: 0, now })
    await off.get('a')
    await off.get('a')
    expect(reads).toBe(2)
  })
})

describe('revocation with the cache (an API instance and the store)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ overrides: { now }, env: { API_KEY_CACHE_SECONDS: '5' } })
  })
  afterAll(() => h.close())

  it('a key revoked by another instance works here for at most API_KEY_CACHE_SECONDS', async () => {
    const { key } = await h.newKey('cached', ['tasks:read'])
    expect((await h.request('/tasks', { key })).status).toBe(200)
    // Another instance revokes it: the store changes, this instance's cache does not know.
    const id = apiKeyId(key) as string
    const stored = (await h.deps.apiKeys.get(id)) as ApiKey
    expect(
      await h.deps.apiKeys.replace(
        { ...stored, revokedAt: new Date(clock).toISOString() },
        stored.version,
      ),
    ).toBe(true)
    clock += 4_000
    expect((await h.request('/tasks', { key })).status).toBe(200)
    clock += 1_001
    expect((await h.request('/tasks', { key })).status).toBe(401)
  })

  it('a key revoked through this instance stops working at once', async () => {
    const created = await h.newKey('cached-here', ['tasks:read'])
    expect((await h.request('/tasks', { key: created.key })).status).toBe(200)
    const revoke = await h.request(`/admin/keys/${created.id}`, {
      method: 'DELETE',
      key: ADMIN_KEY,
    })
    expect(revoke.status).toBe(200)
    expect((await h.request('/tasks', { key: created.key })).status).toBe(401)
  })
})
