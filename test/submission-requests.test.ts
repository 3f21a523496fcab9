import { afterAll, beforeAll, expect, it } from 'vitest'
import { keyedTaskId } from '#shared/ids.ts'
import { type Harness, startHarness } from './helpers/gateway.ts'
import { startRecordingProxy } from './helpers/recording-proxy.ts'

/**
 * What one accepted submission costs the store: the intent (with an Idempotency-Key, also the
 * key's claim: the task's id is derived from the key), the domain taken, then the TaskNo's owner
 * record and the outcome (with the key's answer) side by side; and, once per domain per cache
 * period (`API_KEY_CACHE_SECONDS`), a read of who manages the domain. A replay reads the task in
 * the failed claim itself where the engine returns the item that failed the condition.
 */
let h: Harness
let proxied: Harness
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>

beforeAll(async () => {
  h = await startHarness()
  proxy = await startRecordingProxy(h.env.DYNAMODB_ENDPOINT as string)
  proxied = await startHarness({
    env: {
      TABLE_NAME: h.env.TABLE_NAME as string,
      DYNAMODB_ENDPOINT: proxy.endpoint,
      ALIYUN_ENDPOINT: h.emulator.url,
      API_KEY_CACHE_SECONDS: '60',
    },
  })
})
afterAll(async () => {
  await proxied.close()
  await proxy.close()
  await h.close()
})

async function operationsOf(domain: string, headers: Record<string, string> = {}) {
  const before = proxy.operations.length
  const response = await proxied.request(`/domains/${domain}/ds/sync`, { method: 'POST', headers })
  const body = (await response.json()) as { id: string; status: string }
  return {
    status: response.status,
    body,
    operations: proxy.operations.slice(before).map((operation) => operation.operation),
  }
}

it('an accepted submission costs four store requests, with or without a key (a fifth reads who manages a domain once per cache period); a replay one or two', async () => {
  // The API key is read once, then served from the instance's cache.
  expect((await operationsOf('warm-up.example')).status).toBe(202)
  const sent = ['PutItem', 'PutItem', 'PutItem', 'UpdateItem']
  // A domain not seen in the cache period: who manages it is read once (a GetItem).
  const unkeyed = await operationsOf('unkeyed.example')
  expect(unkeyed.status).toBe(202)
  expect(unkeyed.body.status).toBe('pending')
  expect(unkeyed.operations.sort()).toEqual([...sent, 'GetItem'].sort())

  const keyed = await operationsOf('keyed.example', { 'idempotency-key': 'count-1' })
  expect(keyed.status).toBe(202)
  expect(keyed.body.status).toBe('pending')
  expect(keyed.operations.sort()).toEqual([...sent, 'GetItem'].sort())
  expect(keyed.body.id).toBe(keyedTaskId('alpha', 'count-1'))

  // The domain's manager is in the cache now: the replay reads only the task.
  const replay = await operationsOf('keyed.example', { 'idempotency-key': 'count-1' })
  expect(replay.status).toBe(202)
  expect(replay.body).toEqual(keyed.body)
  // The failed claim, and a read where the engine does not return the item with the failure.
  expect(replay.operations[0]).toBe('PutItem')
  expect(replay.operations.slice(1).every((operation) => operation === 'GetItem')).toBe(true)
  expect(replay.operations.length).toBeLessThanOrEqual(2)
  expect(h.emulator.account.tasks.size).toBe(3)
})

it('an unknown key id costs the store what a known one with a wrong secret does: one read, then none', async () => {
  const known = await proxied.newKey('cost', ['tasks:read'])
  const knownId = known.key.split('_')[1] as string
  const attempt = async (token: string) => {
    const before = proxy.operations.length
    const response = await proxied.request('/tasks', { key: token })
    expect(response.status).toBe(401)
    return proxy.operations.slice(before).map((operation) => operation.operation)
  }
  const wrongSecret = `dgw_${knownId}_${'A'.repeat(43)}`
  const unknown = `dgw_${'q'.repeat(16)}_${'A'.repeat(43)}`
  // The known key is read once (it is then cached, as the unknown id's absence is).
  const knownCosts = [await attempt(wrongSecret), await attempt(wrongSecret)]
  const unknownCosts = [await attempt(unknown), await attempt(unknown)]
  expect(unknownCosts).toEqual(knownCosts)
})
