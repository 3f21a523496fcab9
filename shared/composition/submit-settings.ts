import { absenceAfterSendByMs } from '../poller/upstream-search.ts'
import { DEFAULT_SUBMIT_SETTINGS, type SubmitSettings } from '../tasks/submit-deps.ts'
import type { GatewayConfig } from './gateway-env.ts'
import type { WorkerConfig } from './worker-env.ts'

/** How submissions are made, from the configuration (the API, the syncs and the poller share it). */
export function submitSettingsFrom(config: GatewayConfig, worker: WorkerConfig): SubmitSettings {
  return {
    ...DEFAULT_SUBMIT_SETTINGS,
    taskRetentionMs: config.store.taskRetentionMs,
    reconcileDelayMs: worker.poller.reconcileAfterMs,
    sendWindowMs: config.submit.sendWindowMs,
    absenceAfterSendByMs: absenceAfterSendByMs({
      timestampWindowMs: config.upstream.timestampWindowMs,
      maxClockSkewMs: config.upstream.maxClockSkewMs,
      absenceMarginMs: worker.poller.absenceMarginMs,
    }),
    // A first request keeps its key while it may still be sending or waiting for the answer.
    idempotencyLockMs: config.submit.sendWindowMs + config.upstream.timeoutMs + 20_000,
    firstPollDelayMs: worker.poller.pollDelaysMs[0] ?? DEFAULT_SUBMIT_SETTINGS.firstPollDelayMs,
    queue: {
      ...DEFAULT_SUBMIT_SETTINGS.queue,
      maxPerTarget: config.submit.queueMaxPerTarget,
      maxPerTenant: config.submit.queueMaxPerTenant,
      maxWaitMs: config.submit.queueMaxWaitMs,
    },
  }
}
