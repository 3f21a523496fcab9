import type { ApiDeps } from '#functions/api/request/context.ts'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import type { EmulatorOptions } from '#infra/emulator/app.ts'
import type { ParentZoneSettings } from '#infra/emulator/server.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { silentLogger } from '#shared/logger.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import type { PollerSettings } from '#shared/poller/poller-settings.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import type { Task } from '#shared/tasks/task.ts'
import { type Harness, moved, runBudget, startHarness, TEST_DYNAMODB_ENGINE } from './gateway.ts'
import { TestReceiver } from './receiver.ts'
import { DEFAULTS } from './settings.ts'

/** How long `drainUntil` waits by default: moto answers far more slowly than dynalite. */
const DRAIN_TIMEOUT_MS = TEST_DYNAMODB_ENGINE === 'moto' ? 15_000 : 5_000

/**
 * The first budget of each poller run while draining (longer after a run that reached nothing, see
 * `runBudget`): a run reads every due-index shard before it works, and moto answers a query in
 * time that grows with the table, so its runs get more.
 */
const DRAIN_RUN_MS = TEST_DYNAMODB_ENGINE === 'moto' ? 250 : 50

/** Submissions in the pipeline are signed and sent only within this of their intent. */
export const PIPELINE_SEND_WINDOW_MS = 1_000

/**
 * The service's timestamp window in tests that prove absence quickly: the emulator must be started
 * with it (`QUICK_EMULATOR`), since the proof rests on the service refusing a request signed longer
 * ago than this — however slow the machine is to deliver it. (Its `Timestamp` has whole seconds,
 * so a request may be refused up to a second early: the window leaves room for a slow machine.)
 */
export const QUICK_TIMESTAMP_WINDOW_MS = 3_000

/** Settings under which a lost submission is proven absent 4 s after its intent. */
export const QUICK_ABSENCE: Partial<PollerSettings> = {
  timestampWindowMs: QUICK_TIMESTAMP_WINDOW_MS,
}

/**
 * How long to wait for a drain that needs a proof of absence under `QUICK_ABSENCE`: the send
 * window, the timestamp window and the listing delay's margin (up to 1 s in the adversarial
 * profile) pass first — about 5 s — and a busy machine may take longer.
 */
export const QUICK_DRAIN_MS = 20_000

/** The emulator of a pipeline whose pollers use `QUICK_ABSENCE`. */
export const QUICK_EMULATOR = { timestampWindowMs: QUICK_TIMESTAMP_WINDOW_MS }

/** Fast pacing for tests: polls every 20 ms, callback retries after 50/100/150 ms. */
export const FAST_SETTINGS: Partial<PollerSettings> = {
  pollDelaysMs: [20],
  callbackRetryDelaysMs: [50, 100, 150],
  callbackJitter: 0,
  leaseMs: 2_000,
  idleWaitMs: 10,
  callbackTimeoutMs: 1_000,
  endpointHealth: {
    failuresBeforeBackoff: 3,
    baseBackoffMs: 10,
    maxBackoffMs: 50,
    disableAfterMs: 3_600_000,
  },
  reconcileRetryMs: 20,
  candidateSettleMs: 0,
  // Absence becomes provable a minute after the send window (tests that want it narrow this).
  sendWindowMs: PIPELINE_SEND_WINDOW_MS,
  timestampWindowMs: 60_000,
  maxClockSkewMs: 0,
  absenceMarginMs: 0,
  retryAfterMinMs: 10,
}

export interface Pipeline extends Harness {
  readonly receiver: TestReceiver
  /** A tenant key whose default callback URL is the receiver. */
  readonly tenant: { id: string; key: string; webhookSecret: string }
  pollerDeps(overrides?: Partial<PollerDeps>, settings?: Partial<PollerSettings>): PollerDeps
  /** Runs pollers until `done` holds; fails once `timeoutMs` pass in which nothing moved. */
  drainUntil(
    done: () => Promise<boolean> | boolean,
    options?: { deps?: PollerDeps; timeoutMs?: number },
  ): Promise<void>
  task(id: string): Promise<Task>
  submit(
    path: string,
    init?: RequestInit,
  ): Promise<{ status: number; id: string; body: Record<string, unknown> }>
  closeAll(): Promise<void>
}

export async function startPipeline(
  options: {
    emulatorTaskMs?: number
    emulator?: Partial<EmulatorOptions>
    api?: Partial<ApiDeps>
    env?: Record<string, string>
    parentZone?: ParentZoneSettings
    /** The API's send window (default PIPELINE_SEND_WINDOW_MS): longer where a test makes submissions wait. */
    sendWindowMs?: number
  } = {},
): Promise<Pipeline> {
  const harness = await startHarness({
    emulatorTaskMs: options.emulatorTaskMs ?? 30,
    emulator: options.emulator,
    parentZone: options.parentZone,
    overrides: {
      settings: {
        ...DEFAULTS.submit,
        firstPollDelayMs: 10,
        reconcileDelayMs: 50,
        sendWindowMs: options.sendWindowMs ?? PIPELINE_SEND_WINDOW_MS,
        queue: {
          ...DEFAULTS.submit.queue,
          maxPerTarget: Number(
            options.env?.QUEUE_MAX_PER_TARGET ?? DEFAULTS.submit.queue.maxPerTarget,
          ),
          maxPerTenant: Number(
            options.env?.QUEUE_MAX_PER_TENANT ??
              options.env?.QUEUE_MAX_PER_TARGET ??
              DEFAULTS.submit.queue.maxPerTenant,
          ),
          headRecheckDelaysMs: [20],
          recheckDelaysMs: [50],
          busyRetryDelaysMs: [50],
        },
      },
      ...options.api,
    },
    // The deliveries' send timeout, as FAST_SETTINGS' callbackTimeoutMs says.
    env: { CALLBACK_TIMEOUT_MS: '1000', ...options.env },
  })
  const receiver = new TestReceiver()
  await receiver.start()
  const tenant = await harness.newKey(
    'pipeline',
    ['ds:write', 'dns:write', 'sync:write', 'tasks:read'],
    receiver.url,
  )
  const configured = loadSettings(harness.env)
  let owners = 0
  const pollerDeps = (
    overrides: Partial<PollerDeps> = {},
    settings: Partial<PollerSettings> = {},
  ) => {
    const base = buildPollerDeps(configured, { logger: silentLogger, ...overrides })
    // Queued tasks are sent with the API's own (fast) submission settings.
    const send = base.send && {
      ...base.send,
      logger: silentLogger,
      settings: harness.deps.settings,
    }
    const merged = { ...base.settings, ...FAST_SETTINGS, owner: `test-${++owners}`, ...settings }
    // The absence proof's margin covers the service's listing delay (a requirement on the
    // service, varied by the emulator's adversarial profile).
    const listingDelayMs = harness.emulator.account.options.behaviour.listingDelayMs
    return {
      ...base,
      send,
      ...overrides,
      settings: {
        ...merged,
        absenceMarginMs: Math.max(merged.absenceMarginMs, listingDelayMs),
      },
    }
  }
  const defaultDeps = pollerDeps()
  return {
    ...harness,
    receiver,
    tenant,
    pollerDeps,
    async drainUntil(done, { deps = defaultDeps, timeoutMs = DRAIN_TIMEOUT_MS } = {}) {
      // A busy machine or a slow engine moves the pipeline slowly, not never: the bound is on
      // time in which nothing moved (a wedged domain, a lost wake), not on the whole drain.
      let deadline = Date.now() + timeoutMs
      const budget = runBudget(DRAIN_RUN_MS)
      while (!(await done())) {
        if (Date.now() > deadline) {
          throw new Error(`pipeline did not settle: nothing moved for ${timeoutMs} ms`)
        }
        const { outcomes } = await runPoller(deps, Date.now() + budget.next())
        budget.after(outcomes)
        if (moved(outcomes)) deadline = Date.now() + timeoutMs
      }
    },
    async task(id) {
      const task = await harness.deps.tasks.get(id, Date.now())
      if (!task) throw new Error(`no task ${id}`)
      return task
    },
    async submit(path, init = { method: 'POST' }) {
      const response = await harness.request(path, { ...init, key: tenant.key })
      const body = (await response.json()) as Record<string, unknown>
      return { status: response.status, id: String(body.id ?? body.taskId), body }
    },
    async closeAll() {
      await receiver.stop()
      await harness.close()
    },
  }
}
