import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildSyncDeps } from '#functions/sync/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import { runScheduledSync } from '#shared/sync/run-scheduled-sync.ts'
import { parseSyncEvent, SyncSchedulesFileSchema } from '#shared/sync/sync-schedules.ts'
import { SYSTEM_TENANT } from '#shared/webhooks/webhook-secrets.ts'
import schedulesFile from '../infra/sync-schedules.json' with { type: 'json' }
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'
import { DEFAULTS } from './helpers/settings.ts'

const SYSTEM_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
let p: Pipeline
beforeAll(async () => {
  p = await startPipeline({ env: { SYNC_WEBHOOK_SECRET: SYSTEM_SECRET } })
})
afterAll(() => p.closeAll())

const schedules = [
  {
    name: 'nightly',
    schedule: 'rate(1 day)',
    enabled: true,
    domains: ['named.com'],
    instanceIds: [],
  },
]

describe('sync events', () => {
  it('reads the EventBridge envelope: id, and lists from detail', () => {
    const request = parseSyncEvent(
      {
        version: '0',
        id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        time: '2026-11-22T03:00:00Z',
        detail: { domains: ['A.com', 'a.com.'], instanceIds: ['ST2017120814571100001303'] },
      },
      schedules,
      'request-id',
    )
    expect(request).toEqual({
      eventId: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      schedule: undefined,
      domains: ['a.com'],
      instanceIds: ['ST2017120814571100001303'],
    })
  })

  it('reads the input form, a named schedule, and falls back to schedule@time or the request id', () => {
    expect(parseSyncEvent({ id: 'evt-1', domains: ['b.com'] }, schedules, 'r').eventId).toBe(
      'evt-1',
    )
    expect(
      parseSyncEvent({ schedule: 'nightly', time: '2026-11-22T03:00:00Z' }, schedules, 'r'),
    ).toEqual({
      eventId: 'nightly@2026-11-22T03:00:00Z',
      schedule: 'nightly',
      domains: ['named.com'],
      instanceIds: [],
    })
    expect(parseSyncEvent({ schedule: 'nightly' }, schedules, 'aws-request-1').eventId).toBe(
      'aws-request-1',
    )
    expect(() => parseSyncEvent({ domains: ['not a domain'] }, schedules, 'r')).toThrow()
  })

  it('the committed schedules file is valid', () => {
    expect(() => SyncSchedulesFileSchema.parse(schedulesFile)).not.toThrow()
  })
})

describe('scheduled sync', () => {
  it('submits through the same path, calls back signed with the system secret, and a retried event submits nothing twice', async () => {
    const settings = loadSettings(p.env)
    const deps = buildSyncDeps(settings, {
      logger: silentLogger,
      settings: { ...DEFAULTS.submit, firstPollDelayMs: 10 },
    })
    const request = {
      eventId: 'evt-sync-1',
      schedule: 'test',
      domains: ['sync-a.com', 'sync-b.com'],
      instanceIds: ['ST2017120814571100001303'],
    }
    const first = await runScheduledSync(deps, request, p.receiver.url)
    expect(first.map((result) => [result.target, result.status, result.replayed])).toEqual([
      ['sync-a.com', 202, false],
      ['sync-b.com', 202, false],
      ['ST2017120814571100001303', 202, false],
    ])
    const upstreamBefore = p.emulator.account.tasks.size
    const retried = await runScheduledSync(deps, request, p.receiver.url)
    expect(retried.map((result) => result.replayed)).toEqual([true, true, true])
    expect(retried.map((result) => result.taskId)).toEqual(first.map((result) => result.taskId))
    expect(p.emulator.account.tasks.size).toBe(upstreamBefore)

    const ids = first.map((result) => result.taskId as string)
    await p.drainUntil(async () =>
      (await Promise.all(ids.map((id) => p.task(id)))).every(
        (task) => task.callback.state === 'delivered',
      ),
    )
    for (const id of ids) {
      const task = await p.task(id)
      expect(task.tenant).toBe(SYSTEM_TENANT)
      const callback = p.receiver.received.find((received) => received.id === `msg_${id}`)
      expect(p.receiver.verify(callback!, SYSTEM_SECRET).type).toBe('task.succeeded')
    }
  })
})
