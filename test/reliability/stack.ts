import { mkdtemp, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { createApp } from '#functions/api/app.ts'
import { buildApiDeps } from '#functions/api/deps.ts'
import type { ApiDeps } from '#functions/api/request/context.ts'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import type { RunningEmulator } from '#infra/emulator/server.ts'
import { ensureTable, type LocalDynamoDb, startLocalDynamoDb } from '#infra/local/dynamodb-local.ts'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { createLogger } from '#shared/logger.ts'
import type { PollerDeps } from '#shared/poller/poller-deps.ts'
import type { PollerSettings } from '#shared/poller/poller-settings.ts'
import type { Scope } from '#shared/tasks/task.ts'
import type { QueueSettings } from '#shared/tasks/task-queue.ts'
import {
  crashingAfterIntent,
  crashingUpstream,
  type UpstreamCrashPoints,
} from '../helpers/crash-points.ts'
import { startTestEmulator, TEST_CREDENTIAL } from '../helpers/emulator.ts'
import { startMoto } from '../helpers/moto.ts'
import { TestReceiver } from '../helpers/receiver.ts'
import { DEFAULTS } from '../helpers/settings.ts'
import { type StoreFaultProxy, startStoreFaultProxy } from '../helpers/store-fault-proxy.ts'

/** How long the sustained parts run: `RELIABILITY_SECONDS`, 60 by default, shorter in CI. */
export const RUN_SECONDS = Number(process.env.RELIABILITY_SECONDS ?? 60)
export const ADMIN_KEY = 'reliability-admin-key-0123456789abcdefghij'
/** The absence proof's terms, compressed so that recovery fits in the run: 5 + 10 + 1 + 2 s. */
const SEND_WINDOW_SECONDS = 5
const TIMESTAMP_WINDOW_SECONDS = 10

/**
 * Everything of the gateway as separate real parts on loopback: the embedded DynamoDB (on disk,
 * so it can be stopped and started again), the emulator, the API on a real HTTP listener, a
 * webhook receiver, and pollers made on demand. Every log line is captured for the secret check.
 */
export class ReliabilityStack {
  readonly logLines: string[] = []
  readonly receiver = new TestReceiver()
  readonly secrets: string[] = [ADMIN_KEY, TEST_CREDENTIAL.accessKeySecret]
  emulator!: RunningEmulator
  db!: LocalDynamoDb
  /** With `storeFaults`: the proxy between the gateway and the engine that loses its answers. */
  storeProxy: StoreFaultProxy | undefined
  apiUrl = ''
  env: Record<string, string> = {}
  apiDeps!: ApiDeps
  #dataDir = ''
  #dbPort = 0
  #server: Server | undefined

  readonly logger = createLogger({ level: 'debug', write: (line) => this.logLines.push(line) })

  async start(
    options: {
      emulatorTaskMs?: number
      api?: Partial<ApiDeps>
      /**
       * Where the API's process may die (see crash-points.ts): right after a submission's intent is
       * written, before taking its domain (not a change's steps); around its upstream call.
       */
      apiCrashes?: { afterIntent?: () => Promise<void> } & UpstreamCrashPoints
      /** The store engine: the embedded dynalite (on disk, default) or moto_server. */
      engine?: 'dynalite' | 'moto'
      /** A fault proxy (seeded) between the gateway and the engine; its rates are set by the test. */
      storeFaults?: { seed: number }
      /** Queue settings of this suite's own, over the compressed ones below. */
      queue?: Partial<QueueSettings>
      /** Settings of this suite's own (env), over the compressed ones below. */
      env?: Record<string, string>
    } = {},
  ): Promise<void> {
    this.#dataDir = await mkdtemp(join(tmpdir(), 'dg-reliability-'))
    if (options.engine === 'moto') {
      const moto = await startMoto()
      this.db = { endpoint: moto.endpoint, close: moto.stop }
    } else {
      this.db = await startLocalDynamoDb({ path: this.#dataDir })
      this.#dbPort = Number(new URL(this.db.endpoint).port)
    }
    if (options.storeFaults) {
      this.storeProxy = await startStoreFaultProxy(this.db.endpoint, options.storeFaults)
    }
    this.emulator = await startTestEmulator({
      account: { taskMs: options.emulatorTaskMs ?? 100 },
      // The service's rule, compressed: a request signed more than 10 s before it arrives is
      // refused. The gateway is told the same window (ALIYUN_TIMESTAMP_WINDOW_SECONDS below).
      timestampWindowMs:
        Number(options.env?.ALIYUN_TIMESTAMP_WINDOW_SECONDS ?? TIMESTAMP_WINDOW_SECONDS) * 1000,
    })
    await this.receiver.start()
    this.env = {
      TABLE_NAME: 'reliability',
      DYNAMODB_ENDPOINT: this.storeProxy?.url ?? this.db.endpoint,
      AWS_REGION: 'us-east-1',
      ADMIN_API_KEY: ADMIN_KEY,
      ALIYUN_ENDPOINT: this.emulator.url,
      ALIYUN_ACCESS_KEY_ID: TEST_CREDENTIAL.accessKeyId,
      ALIYUN_ACCESS_KEY_SECRET: TEST_CREDENTIAL.accessKeySecret,
      ALIYUN_TIMEOUT_MS: '3000',
      SUBMIT_SEND_WINDOW_SECONDS: String(SEND_WINDOW_SECONDS),
      ALIYUN_TIMESTAMP_WINDOW_SECONDS: String(TIMESTAMP_WINDOW_SECONDS),
      ALIYUN_MAX_CLOCK_SKEW_SECONDS: '1',
      RECONCILE_ABSENCE_MARGIN_SECONDS: '2',
      CALLBACK_ALLOW_HTTP: 'true',
      CALLBACK_ALLOW_LOOPBACK: 'true',
      CALLBACK_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'debug',
      // The load's domains are served nowhere: their pre-flight checks are `unverified`, carried out.
      DNS_LOOKUP: 'overrides',
      PREFLIGHT_UNVERIFIED: 'proceed',
      // The limiter counts every request (so runs under load), but the load's tenants stay under
      // it; the hostile suite gives a tenant its own low limits.
      RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
      RATE_LIMIT_UPSTREAM_READS_PER_MINUTE: '1000000',
      RATE_LIMIT_READS_PER_MINUTE: '1000000',
      RATE_LIMIT_REDELIVERIES_PER_MINUTE: '1000000',
      ...options.env,
    }
    await ensureTable(this.db.endpoint, this.env.TABLE_NAME as string)
    const settings = loadSettings(this.env)
    const crashes = options.apiCrashes ?? {}
    const upstream = new DomainApiClient({ config: settings.upstream })
    const built = buildApiDeps(settings, {
      logger: this.logger,
      upstream: crashingUpstream(upstream, crashes),
      settings: {
        ...DEFAULTS.submit,
        firstPollDelayMs: 20,
        reconcileDelayMs: 300,
        idempotencyLockMs: 1_500,
        sendWindowMs: settings.submit.sendWindowMs,
        absenceAfterSendByMs: settings.submit.absenceAfterSendByMs,
        queue: {
          ...DEFAULTS.submit.queue,
          // Compressed like the rest, but a task behind others is woken by the release that
          // makes it the head: it looks again on its own only rarely, as in production.
          headRecheckDelaysMs: [100, 200, 400, 1_000],
          recheckDelaysMs: [2_000, 5_000, 10_000],
          busyRetryDelaysMs: [100, 200, 400],
          ...options.queue,
        },
      },
      changeRecheckMs: 5_000,
      ...options.api,
    })
    const { afterIntent } = crashes
    this.apiDeps = afterIntent
      ? { ...built, tasks: crashingAfterIntent(built.tasks, afterIntent, (task) => !task.changeId) }
      : built
    const app = createApp(this.apiDeps)
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
    await new Promise<void>((resolve) => server.once('listening', () => resolve()))
    this.#server = server
    this.apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  async newKey(tenant: string, scopes: Scope[], callbackUrl?: string) {
    const created = await createApiKey(this.apiDeps, { tenant, scopes, callbackUrl })
    this.secrets.push(created.key, created.webhookSecret)
    return created
  }

  pollerDeps(
    settings: Partial<PollerSettings> = {},
    overrides: Partial<PollerDeps> = {},
  ): PollerDeps {
    const base = buildPollerDeps(loadSettings(this.env), {
      logger: this.logger,
    })
    // Queued tasks are sent, and changes settled, with the API's own (compressed) settings.
    const changes = base.changes && {
      ...base.changes,
      logger: this.logger,
      settings: this.apiDeps.settings,
      changeRecheckMs: 5_000,
    }
    return {
      ...base,
      send: changes,
      changes,
      ...overrides,
      settings: {
        ...base.settings,
        ...DEFAULTS.poller,
        owner: base.settings.owner,
        pollDelaysMs: [30, 60, 100],
        callbackRetryDelaysMs: [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000],
        callbackJitter: 0,
        leaseMs: 1_500,
        callbackTimeoutMs: 2_000,
        endpointHealth: {
          failuresBeforeBackoff: 5,
          baseBackoffMs: 100,
          maxBackoffMs: 1_000,
          disableAfterMs: 3_600_000,
        },
        reconcileRetryMs: 100,
        // The upstream timeout (3 s) and then some: live submissions record their TaskNo first.
        candidateSettleMs: 5_000,
        // The absence proof's terms, as configured above (not the defaults).
        sendWindowMs: base.settings.sendWindowMs,
        timestampWindowMs: base.settings.timestampWindowMs,
        maxClockSkewMs: base.settings.maxClockSkewMs,
        absenceMarginMs: base.settings.absenceMarginMs,
        idleWaitMs: 20,
        concurrency: 16,
        ...settings,
      },
    }
  }

  /** Stops the embedded DynamoDB; requests fail until `restartDb`. Data on disk is kept. */
  async stopDb(): Promise<void> {
    await this.db.close()
  }

  async restartDb(): Promise<void> {
    this.db = await startLocalDynamoDb({ path: this.#dataDir, port: this.#dbPort })
  }

  async stop(): Promise<void> {
    const server = this.#server
    if (server) {
      server.closeAllConnections?.()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    await this.receiver.stop()
    await this.storeProxy?.close()
    await this.emulator.close()
    await this.db.close().catch(() => {})
    await rm(this.#dataDir, { recursive: true, force: true })
  }

  /** Log lines that contain any secret this suite handed out or configured. */
  leakedSecrets(): string[] {
    return this.logLines.filter((line) =>
      this.secrets.some((secret) => secret && line.includes(secret)),
    )
  }
}

export async function call(
  stack: ReliabilityStack,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  let parsed: Record<string, unknown> = {}
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: response.status, body: parsed }
}
