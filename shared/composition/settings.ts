import type { DomainApiSettings } from '../aliyun/domain-api-settings.ts'
import type { PollerSettings } from '../poller/poller-settings.ts'
import type { DueSweepSettings } from '../poller/sweep-due-index.ts'
import type { SubmitSettings } from '../tasks/submit-deps.ts'
import type { QueueSettings } from '../tasks/task-queue.ts'
import { absenceAfterSendByMs } from '../tasks/upstream-search.ts'
import type { CallbackSettings } from '../webhooks/callback-settings.ts'
import type { EndpointHealthSettings } from '../webhooks/endpoint-health.ts'
import type { Env } from './env.ts'
import { type GatewayConfig, loadGatewayConfig } from './gateway-env.ts'
import { loadWorkerConfig, type WorkerConfig } from './worker-env.ts'

/**
 * Every setting of the gateway, read from the environment once: each value an operator may set has
 * its default in the env schema beside this file (`*-env.ts`, also the source of
 * docs/configuration.md); each value no one sets is a named constant here. Handlers, the local
 * runner and tests take the sections their parts need.
 */
export interface Settings
  extends Omit<GatewayConfig, 'submit'>,
    Omit<WorkerConfig, 'poller' | 'callbacks'> {
  /** How a submission is made: by the API, a scheduled sync, a change's step, the poller's turn. */
  readonly submit: SubmitSettings
  /** How the poller paces its work (its `owner` is the running process's). */
  readonly poller: Omit<PollerSettings, 'owner'>
  readonly callbacks: CallbackSettings
  /** The hourly due-index sweep (its `owner` is the running process's). */
  readonly dueSweep: Omit<DueSweepSettings, 'owner'>
  /** How often a running change looks at its steps when no step's end wakes it sooner. */
  readonly changeRecheckMs: number
  /** Where a scheduled run's parts go (SQS); undefined: the run drains every shard itself. */
  readonly fanOut: { readonly queueUrl: string | undefined; readonly workers: number }
}

/** The pacing of a domain's queue that no one sets (the limits and the wait are settings). */
const QUEUE_PACING: Omit<QueueSettings, 'maxPerTarget' | 'maxPerTenant' | 'maxWaitMs'> = {
  headRecheckDelaysMs: [1_000, 2_000, 5_000],
  recheckDelaysMs: [5_000, 15_000, 30_000, 60_000],
  busyRetryDelaysMs: [5_000, 10_000, 30_000, 60_000, 120_000],
  staleTicketMs: 60_000,
}

/** How a failing endpoint is backed off as a whole (when it is disabled is a setting). */
const ENDPOINT_BACKOFF: Omit<EndpointHealthSettings, 'disableAfterMs'> = {
  failuresBeforeBackoff: 5,
  baseBackoffMs: 5_000,
  maxBackoffMs: 15 * 60_000,
}

/** The poller's own pacing that no one sets. */
const POLLER_PACING = {
  reconcileRetryMs: 30_000,
  retryAfterMinMs: 1_000,
  retryAfterMaxMs: 10 * 3_600_000,
  batchSize: 100,
  idleWaitMs: 500,
} as const

/** How much of the table one due-index sweep reads, and how long its lease lasts. */
const DUE_SWEEP_PAGING = { pagesPerRun: 80, pageSize: 500, leaseMs: 60_000 } as const

/**
 * An upstream task is adopted only once it is this much older than the upstream timeout, so a
 * live submission that made it has recorded its TaskNo first (see upstream-search.ts).
 */
const CANDIDATE_SETTLE_MARGIN_MS = 30_000

/** A first request keeps its Idempotency-Key this long past its send window and its answer. */
const IDEMPOTENCY_LOCK_MARGIN_MS = 20_000

/** The submission settings every path shares, from the parsed sections. */
function submitSettings(
  gateway: GatewayConfig,
  worker: WorkerConfig,
  upstream: DomainApiSettings,
): SubmitSettings {
  return {
    taskRetentionMs: gateway.store.taskRetentionMs,
    reconcileDelayMs: worker.poller.reconcileAfterMs,
    sendWindowMs: gateway.submit.sendWindowMs,
    absenceAfterSendByMs: absenceAfterSendByMs({
      timestampWindowMs: upstream.timestampWindowMs,
      maxClockSkewMs: upstream.maxClockSkewMs,
      absenceMarginMs: worker.poller.absenceMarginMs,
    }),
    // A first request keeps its key while it may still be sending or waiting for the answer.
    idempotencyLockMs:
      gateway.submit.sendWindowMs + upstream.timeoutMs + IDEMPOTENCY_LOCK_MARGIN_MS,
    firstPollDelayMs: worker.poller.pollDelaysMs[0] as number,
    queue: {
      ...QUEUE_PACING,
      maxPerTarget: gateway.submit.queueMaxPerTarget,
      maxPerTenant: gateway.submit.queueMaxPerTenant,
      maxWaitMs: gateway.submit.queueMaxWaitMs,
    },
  }
}

/** The poller's settings, from the parsed sections. */
function pollerSettings(
  gateway: GatewayConfig,
  worker: WorkerConfig,
): Omit<PollerSettings, 'owner'> {
  const { upstream } = gateway
  const { callbacks, poller } = worker
  return {
    ...POLLER_PACING,
    leaseMs: poller.leaseMs,
    pollDelaysMs: poller.pollDelaysMs,
    maxTaskAgeMs: poller.maxTaskAgeMs,
    candidateSettleMs: upstream.timeoutMs + CANDIDATE_SETTLE_MARGIN_MS,
    sendWindowMs: gateway.submit.sendWindowMs,
    timestampWindowMs: upstream.timestampWindowMs,
    maxClockSkewMs: upstream.maxClockSkewMs,
    absenceMarginMs: poller.absenceMarginMs,
    callbackRetryDelaysMs: callbacks.retryDelaysMs,
    callbackJitter: callbacks.jitter,
    callbackTimeoutMs: callbacks.timeoutMs,
    callbackConcurrency: callbacks.concurrency,
    callbackPerEndpoint: callbacks.perEndpoint,
    callbackPerTenant: callbacks.perTenant,
    endpointHealth: { ...ENDPOINT_BACKOFF, disableAfterMs: callbacks.disableAfterMs },
    taskRetentionMs: gateway.store.taskRetentionMs,
    concurrency: poller.concurrency,
  }
}

/** Reads every setting from `env` (secrets already resolved); a bad value fails naming it. */
export function loadSettings(env: Env = process.env): Settings {
  const gateway = loadGatewayConfig(env)
  const worker = loadWorkerConfig(env, gateway)
  const { submit: _submit, ...gatewaySections } = gateway
  const { poller, ...workerSections } = worker
  return {
    ...gatewaySections,
    ...workerSections,
    submit: submitSettings(gateway, worker, gateway.upstream),
    poller: pollerSettings(gateway, worker),
    dueSweep: {
      ...DUE_SWEEP_PAGING,
      intervalMs: poller.dueSweepIntervalMs,
      staleAfterMs: poller.dueSweepStaleMs,
    },
    changeRecheckMs: poller.changeRecheckMs,
    fanOut: { queueUrl: poller.queueUrl, workers: poller.workers },
  }
}
