import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildSyncDeps } from '#functions/sync/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { createLogger } from '#shared/logger.ts'
import { runScheduledSync } from '#shared/sync/run-scheduled-sync.ts'
import { ADMIN_KEY, type Harness, postJson, startHarness } from './helpers/gateway.ts'

/** One policy for every callback URL, wherever it enters: here the strict one of production. */
const STRICT = {
  CALLBACK_ALLOW_HTTP: 'false',
  CALLBACK_ALLOW_LOOPBACK: 'false',
  CALLBACK_ALLOWLIST: '127.0.0.2/32',
}
const REFUSED = [
  'http://127.0.0.2:19211/plainhttp',
  'https://user:pw@127.0.0.2/hook',
  'https://169.254.169.254/latest/meta-data',
]

let h: Harness
beforeAll(async () => {
  h = await startHarness({ env: STRICT })
})
afterAll(() => h.close())

const createKey = (callbackUrl: string) =>
  h.request('/admin/keys', {
    ...postJson({ tenant: 'strict', scopes: ['ds:write'], callbackUrl }),
    key: ADMIN_KEY,
  })

describe('a callback URL is checked wherever it enters', () => {
  it.each(REFUSED)(
    'an API key with default callback %s is refused, nothing stored',
    async (url) => {
      const response = await createKey(url)
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ type: '/docs#problem-callback-url-refused' })
      const keys = await (await h.request('/admin/keys', { key: ADMIN_KEY })).text()
      expect(keys).not.toContain('169.254')
      expect(keys).not.toContain('user:pw')
    },
  )

  it('an allowed https URL is accepted for a key', async () => {
    expect((await createKey('https://127.0.0.2/hook')).status).toBe(201)
  })

  it.each(REFUSED)('a submission with callback %s is refused', async (url) => {
    const response = await h.request('/domains/strict.com/ds/sync', postJson({ callbackUrl: url }))
    expect(response.status).toBe(400)
  })

  it('a refused SYNC_CALLBACK_URL: the syncs run without callbacks, and the operator is told', async () => {
    const lines: string[] = []
    const deps = buildSyncDeps(loadSettings(h.env), {
      logger: createLogger({ write: (line) => lines.push(line) }),
    })
    const results = await runScheduledSync(
      deps,
      { eventId: 'evt-strict', schedule: 'test', domains: ['strict-sync.com'], instanceIds: [] },
      'http://127.0.0.2:19211/plainhttp',
    )
    expect(results).toMatchObject([{ target: 'strict-sync.com', status: 202 }])
    const task = await h.deps.tasks.get(results[0]?.taskId as string, Date.now())
    expect(task?.callback.url).toBeUndefined()
    expect(lines.join('\n')).toContain('SYNC_CALLBACK_URL is refused')
  })
})
