import { describe, expect, it } from 'vitest'
import { buildApiDeps } from '#functions/api/deps.ts'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import type { Task } from '#shared/tasks/task.ts'
import { absenceProvableAfter } from '#shared/tasks/upstream-search.ts'

const env = {
  ALIYUN_ACCESS_KEY_ID: 'id',
  ALIYUN_ACCESS_KEY_SECRET: 'secret',
  DYNAMODB_ENDPOINT: 'http://127.0.0.1:1',
  AWS_REGION: 'local',
}
const pollerSettingsFor = (extra: Record<string, string>) =>
  buildPollerDeps(loadSettings({ ...env, ...extra }), { logger: silentLogger }).settings
const submitSettingsFor = (extra: Record<string, string>) =>
  buildApiDeps(loadSettings({ ...env, ...extra }), { logger: silentLogger }).settings

const intent = (createdAt: number, sendBy: number | undefined) =>
  ({ createdAt: new Date(createdAt).toISOString(), sendBy }) as Task

describe('the absence window from configuration', () => {
  it('is sendBy + the service timestamp window + the clock-skew bound + the margin, by default 17.5 min', () => {
    const settings = pollerSettingsFor({})
    const sendBy = Date.UTC(2026, 10, 23, 12, 1, 0)
    expect(absenceProvableAfter(settings, intent(sendBy - 60_000, sendBy))).toBe(
      sendBy + 900_000 + 30_000 + 60_000,
    )
  })

  it('follows each setting, and the send window the API stamps on intents', () => {
    const extra = {
      SUBMIT_SEND_WINDOW_SECONDS: '20',
      ALIYUN_TIMESTAMP_WINDOW_SECONDS: '300',
      ALIYUN_MAX_CLOCK_SKEW_SECONDS: '5',
      RECONCILE_ABSENCE_MARGIN_SECONDS: '7',
    }
    const settings = pollerSettingsFor(extra)
    expect(submitSettingsFor(extra).sendWindowMs).toBe(20_000)
    // A submission's target lock lives exactly until its absence is provable.
    expect(submitSettingsFor(extra).absenceAfterSendByMs).toBe(300_000 + 5_000 + 7_000)
    const createdAt = Date.UTC(2026, 10, 23, 12, 0, 0)
    expect(absenceProvableAfter(settings, intent(createdAt, createdAt + 20_000))).toBe(
      createdAt + 20_000 + 300_000 + 5_000 + 7_000,
    )
    // An intent written before sendBy existed is given the configured send window.
    expect(absenceProvableAfter(settings, intent(createdAt, undefined))).toBe(
      createdAt + 20_000 + 300_000 + 5_000 + 7_000,
    )
  })

  it('a key stays locked while its first request may still be sending or waiting', () => {
    const settings = submitSettingsFor({
      SUBMIT_SEND_WINDOW_SECONDS: '60',
      ALIYUN_TIMEOUT_MS: '10000',
    })
    expect(settings.idempotencyLockMs).toBeGreaterThan(60_000 + 10_000)
  })

  it('an upstream task is adopted only after a live submission has had time to record it', () => {
    expect(pollerSettingsFor({ ALIYUN_TIMEOUT_MS: '60000' }).candidateSettleMs).toBe(90_000)
  })
})
