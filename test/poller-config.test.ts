import { describe, expect, it } from 'vitest'
import { buildPollerDeps, minimumAbsenceWindowMs } from '#functions/poller/deps.ts'
import { loadGatewayConfig, loadWorkerConfig } from '#shared/config.ts'
import { silentLogger } from '#shared/logger.ts'
import { DEFAULT_SUBMIT_SETTINGS } from '#shared/tasks/submit-task.ts'

const env = {
  ALIYUN_ACCESS_KEY_ID: 'id',
  ALIYUN_ACCESS_KEY_SECRET: 'secret',
  DYNAMODB_ENDPOINT: 'http://127.0.0.1:1',
  AWS_REGION: 'local',
}
const settingsFor = (extra: Record<string, string>) =>
  buildPollerDeps(loadGatewayConfig({ ...env, ...extra }), loadWorkerConfig({ ...env, ...extra }), {
    logger: silentLogger,
  }).settings

describe('poller settings from configuration', () => {
  it('never prove a submission absent while it could still be in flight', () => {
    const settings = settingsFor({
      RECONCILE_ABSENT_AFTER_SECONDS: '60',
      ALIYUN_TIMEOUT_MS: '60000',
    })
    expect(settings.reconcileAbsentAfterMs).toBe(
      DEFAULT_SUBMIT_SETTINGS.maxIntentWriteMs + 120_000 + 60_000,
    )
    expect(minimumAbsenceWindowMs(60_000)).toBe(settings.reconcileAbsentAfterMs)
    // …and adopt a candidate only after a live submission has had time to record it, well inside that.
    expect(settings.candidateSettleMs).toBe(90_000)
    expect(
      DEFAULT_SUBMIT_SETTINGS.maxIntentWriteMs + 60_000 + settings.candidateSettleMs,
    ).toBeLessThan(settings.reconcileAbsentAfterMs)
  })

  it('keep a longer configured absence window', () => {
    expect(settingsFor({ RECONCILE_ABSENT_AFTER_SECONDS: '600' }).reconcileAbsentAfterMs).toBe(
      600_000,
    )
  })
})
