import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createApp } from '#functions/api/app.ts'
import { apiDepsFrom } from '#functions/api/deps.ts'
import { driftDepsFrom } from '#functions/drift/deps.ts'
import { pollerDepsFrom } from '#functions/poller/deps.ts'
import { syncDepsFrom } from '#functions/sync/deps.ts'
import { behaviourFor } from '#infra/emulator/behaviour.ts'
import { LOCAL_TLDS } from '#infra/emulator/dns-parent.ts'
import { loadEmulatorConfig } from '#infra/emulator/emulator-config.ts'
import type { FaultRuleInput } from '#infra/emulator/faults.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { loadLocalConfig } from '#infra/local/local-config.ts'
import { apiKeyId } from '#shared/auth/api-keys.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { sleep } from '#shared/backoff.ts'
import { buildDnssecDeps } from '#shared/composition/dnssec-deps.ts'
import { buildGraph } from '#shared/composition/graph.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { runDriftCheck } from '#shared/desired/check-drift.ts'
import { runDnssecScans } from '#shared/dnssec-automation/dnssec-service.ts'
import { LOCAL_DEFAULTS } from '#shared/local-defaults.ts'
import type { Logger } from '#shared/logger.ts'
import { dispatchPollerRun } from '#shared/poller/dispatch-run.ts'
import { InProcessShardQueue } from '#shared/poller/in-process-shard-queue.ts'
import { runScheduledSync } from '#shared/sync/run-scheduled-sync.ts'
import { rateMs, SyncSchedulesFileSchema } from '#shared/sync/sync-schedules.ts'
import schedulesFile from '../sync-schedules.json' with { type: 'json' }
import { type CallbackReceiver, startCallbackReceiver } from './callback-receiver.ts'
import {
  type DemoZone,
  type RunningDemoZones,
  SIGNED_PROVIDER,
  startDemoZones,
} from './demo-zones.ts'
import { ensureTable, startLocalDynamoDb } from './dynamodb-local.ts'
import { listenOnPort } from './listen-port.ts'

type Env = Record<string, string | undefined>

export interface LocalStack {
  readonly apiUrl: string
  readonly aliyunEndpoint: string
  readonly emulated: boolean
  readonly dynamoDbEndpoint: string
  readonly dynamoDbNote: string
  readonly devKey: string
  readonly devWebhookSecret: string
  readonly devTenant: string
  readonly adminApiKey: string
  readonly adminKeyGenerated: boolean
  readonly receiver: CallbackReceiver | undefined
  /** The signed demo zones served locally (none with DNS_SERVER_OVERRIDES or a real endpoint). */
  readonly demoZones: readonly DemoZone[]
  readonly logger: Logger
  stop(): Promise<void>
}

/** Under npm start: the emulator's parent zone for the usual test and example TLDs. */
function localParentOverrides(port: number): Record<string, string[]> {
  const server = [`127.0.0.1:${port}`]
  return Object.fromEntries(LOCAL_TLDS.map((tld) => [tld, server]))
}

/**
 * The whole gateway in one process, as `npm start` runs it: the embedded DynamoDB, the Domain API
 * emulator, the API, the poller on a timer, the scheduled syncs on timers, and a callback
 * receiver that prints each verified webhook. Real services replace the local ones when
 * DYNAMODB_ENDPOINT / ALIYUN_ENDPOINT are set.
 */
export async function startLocalStack(env: Env): Promise<LocalStack> {
  const local = loadLocalConfig(env)
  const stops: (() => Promise<void>)[] = []
  /** A listener's name and variable; a port the user set is not moved. */
  const part = (name: string, variable: string) => ({
    name,
    variable,
    chosen: env[variable] !== undefined,
  })

  const db = local.dynamoDbEndpoint
    ? undefined
    : await startLocalDynamoDb({ path: local.dynamoDbDataDir })
  if (db) stops.push(db.close)
  const dynamoDbEndpoint = local.dynamoDbEndpoint ?? (db as { endpoint: string }).endpoint

  let aliyunEndpoint = local.aliyunEndpoint
  let parentZonePort: number | undefined
  let parentTrustAnchors: string | undefined
  let demo: RunningDemoZones | undefined
  if (!aliyunEndpoint) {
    const emulatorConfig = loadEmulatorConfig(env, LOCAL_DEFAULTS)
    const emulator = await listenOnPort(
      part('Domain API emulator', 'EMULATOR_PORT'),
      local.emulatorPort,
      (port) =>
        startEmulator({
          port,
          host: emulatorConfig.host,
          credentials: [emulatorConfig.credential],
          account: {
            taskMs: emulatorConfig.taskMs,
            unregisteredPattern: emulatorConfig.unregisteredPattern,
            unregisteredDomains: new Set(emulatorConfig.unregisteredDomains),
            failingPattern: emulatorConfig.failingPattern,
            behaviour: behaviourFor(
              emulatorConfig.behaviour.profile,
              Math.random,
              emulatorConfig.behaviour,
            ),
          },
          faults: emulatorConfig.faults as FaultRuleInput[],
          timestampWindowMs: emulatorConfig.timestampWindowMs,
          now: () => Date.now() + emulatorConfig.clockOffsetMs,
          // The emulator also plays the parent zone over DNS, so a whole rollover runs locally.
          parentZone: emulatorConfig.parentZone ?? {
            port: 0,
            publishDelayMs: 500,
            dsTtlSeconds: 2,
          },
        }),
    )
    stops.push(emulator.close)
    if (env.CALLBACK_ALLOW_LOOPBACK !== 'false' && !env.DNS_SERVER_OVERRIDES) {
      // Signed demo zones on a local DNS server, delegated to it by the emulator's parent zone.
      demo = await startDemoZones()
      stops.unshift(demo.close)
      for (const zone of demo.zones) {
        emulator.account.nameServers.set(zone.zone, SIGNED_PROVIDER)
      }
    }
    aliyunEndpoint = emulator.url
    parentZonePort = emulator.parentZone?.port
    parentTrustAnchors = emulator.parentZone?.publication.trustAnchors()
  }

  const receiverSecrets: string[] = []
  /** Every key's secrets, read when a callback arrives: keys made with `keys create` verify too. */
  let keySecrets: () => Promise<string[]> = async () => []
  const receiver = local.printCallbacks
    ? await listenOnPort(
        part('callback receiver', 'CALLBACK_RECEIVER_PORT'),
        local.callbackReceiverPort,
        (port) =>
          startCallbackReceiver(async () => [...receiverSecrets, ...(await keySecrets())], {
            port,
          }),
      )
    : undefined
  if (receiver) stops.push(receiver.close)

  const adminApiKey = local.adminApiKey ?? `adm_${randomBytes(24).toString('base64url')}`
  const systemSecret = `whsec_${randomBytes(32).toString('base64')}`
  const stackEnv: Env = {
    ALIYUN_ACCESS_KEY_ID: LOCAL_DEFAULTS.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: LOCAL_DEFAULTS.accessKeySecret,
    CALLBACK_ALLOW_HTTP: 'true',
    CALLBACK_ALLOW_LOOPBACK: 'true',
    AWS_REGION: 'us-east-1',
    // The embedded engine can lose an index entry when the process is killed: sweep every minute.
    DUE_SWEEP_INTERVAL_MINUTES: '1',
    DUE_SWEEP_STALE_MINUTES: '1',
    // Locally the drift check and DNSSEC scans run every minute, changes look at their steps every 2 s.
    DRIFT_CHECK_MINUTES: '1',
    CHANGE_RECHECK_SECONDS: '2',
    // Locally most domains are served nowhere: a change the pre-flight check cannot verify is
    // carried out with the verdict recorded, and only the servers the overrides name are asked.
    PREFLIGHT_UNVERIFIED: 'proceed',
    DNS_LOOKUP: 'overrides',
    // The emulator's parent zone publishes within a second: look at it soon after a task.
    PUBLICATION_CHECK_SECONDS: '1,2,5',
    SYNC_CALLBACK_URL: receiver?.url,
    SYNC_WEBHOOK_SECRET: systemSecret,
    // The local emulator's window is the service's rule the absence proof rests on: follow it.
    ...(local.aliyunEndpoint || !env.EMULATOR_TIMESTAMP_WINDOW_SECONDS
      ? {}
      : { ALIYUN_TIMESTAMP_WINDOW_SECONDS: env.EMULATOR_TIMESTAMP_WINDOW_SECONDS }),
    // The emulator's parent zone answers for every TLD a local zone may sit under — on loopback,
    // so only while the address policy allows loopback (not in a strict run).
    ...(parentZonePort !== undefined &&
    !env.DNS_SERVER_OVERRIDES &&
    env.CALLBACK_ALLOW_LOOPBACK !== 'false'
      ? {
          DNS_SERVER_OVERRIDES: JSON.stringify({
            ...localParentOverrides(parentZonePort),
            ...demo?.overrides,
          }),
        }
      : {}),
    // RFC 9615 signals' chains of trust start at the emulator's signed TLDs.
    ...(parentTrustAnchors && !env.DNSSEC_TRUST_ANCHORS
      ? { DNSSEC_TRUST_ANCHORS: parentTrustAnchors }
      : {}),
    ...env,
    ALIYUN_ENDPOINT: aliyunEndpoint,
    DYNAMODB_ENDPOINT: dynamoDbEndpoint,
    ADMIN_API_KEY: adminApiKey,
  }
  const settings = loadSettings(stackEnv)
  await ensureTable(dynamoDbEndpoint, settings.store.tableName, settings.store.region)
  if (settings.sync.webhookSecret) receiverSecrets.push(settings.sync.webhookSecret)

  // One graph, as each Lambda function builds its own: the functions pick from it.
  const graph = buildGraph(settings)
  const apiDeps = apiDepsFrom(graph)
  const app = createApp(apiDeps)
  const devKeyId = local.devApiKey ? apiKeyId(local.devApiKey) : undefined
  const stored = devKeyId ? await apiDeps.apiKeys.get(devKeyId) : undefined
  const devKey = stored
    ? { key: local.devApiKey as string, webhookSecret: stored.webhookSecrets[0]?.secret ?? '' }
    : await createApiKey(
        apiDeps,
        {
          tenant: local.devTenant,
          scopes: ['ds:write', 'dns:write', 'sync:write', 'tasks:read'],
          callbackUrl: receiver?.url,
        },
        local.devApiKey,
      )
  receiverSecrets.push(devKey.webhookSecret)
  keySecrets = async () =>
    (await apiDeps.apiKeys.list(1_000)).flatMap((key) =>
      key.webhookSecrets.map((entry) => entry.secret),
    )
  // The dev tenant may act on everything, also under TENANT_SCOPES=strict.
  if (!(await apiDeps.tenantScopes.get(local.devTenant))) {
    await apiDeps.tenantScopes.save(
      {
        tenant: local.devTenant,
        domains: ['*'],
        instances: ['*'],
        updatedAt: new Date().toISOString(),
      },
      undefined,
    )
  }

  const server = await listenOnPort(part('API', 'PORT'), local.port, async (port) => {
    const listener = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' })
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject)
      listener.once('listening', () => resolve())
    })
    return listener
  })
  const { port } = server.address() as AddressInfo
  stops.unshift(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
      }),
  )

  // The poller, as the one-minute schedule would run it, back to back: each run dispatched as on
  // AWS, its parts (POLLER_WORKERS of them, one by default) drained in this process.
  const pollerDeps = pollerDepsFrom(graph)
  const shardQueue = new InProcessShardQueue(pollerDeps)
  let running = true
  const pollerLoop = (async () => {
    while (running) {
      await dispatchPollerRun(pollerDeps, shardQueue, {
        workers: settings.fanOut.workers,
        runMs: 5_000,
      }).catch((error: unknown) => {
        pollerDeps.logger.error('poller run failed', { error })
      })
      // `METRICS=on npm start` shows each run's EMF lines, as CloudWatch would get them.
      pollerDeps.metrics?.flush()
      // A run ends early when nothing is due; look again shortly, as a tighter schedule would.
      if (running) await sleep(local.pollIntervalMs)
    }
  })()
  stops.unshift(async () => {
    running = false
    await pollerLoop
  })

  // Scheduled syncs with a rate() expression run on timers; cron() ones only on AWS.
  const syncDeps = syncDepsFrom(graph)
  const { schedules } = SyncSchedulesFileSchema.parse(schedulesFile)
  for (const schedule of schedules.filter((candidate) => candidate.enabled)) {
    const every = rateMs(schedule.schedule)
    if (!every) continue
    const timer = setInterval(() => {
      const request = {
        eventId: `${schedule.name}@${new Date().toISOString()}`,
        schedule: schedule.name,
        domains: schedule.domains,
        instanceIds: schedule.instanceIds,
      }
      runScheduledSync(syncDeps, request, settings.sync.callbackUrl).catch((error: unknown) => {
        syncDeps.logger.error('scheduled sync failed', { error })
      })
    }, every)
    stops.push(async () => clearInterval(timer))
  }

  // The drift check and the DNSSEC scans, as their schedule would run them.
  const driftDeps = driftDepsFrom(graph)
  const dnssecDeps = buildDnssecDeps(driftDeps, graph.stores.dnssecStates, settings)
  const driftTimer = setInterval(() => {
    runDriftCheck(driftDeps).catch((error: unknown) => {
      driftDeps.logger.error('drift check failed', { error })
    })
    runDnssecScans(dnssecDeps).catch((error: unknown) => {
      driftDeps.logger.error('DNSSEC scans failed', { error })
    })
  }, settings.drift.checkEveryMs)
  stops.push(async () => clearInterval(driftTimer))

  return {
    apiUrl: `http://127.0.0.1:${port}`,
    aliyunEndpoint,
    emulated: !local.aliyunEndpoint,
    dynamoDbEndpoint,
    dynamoDbNote: db ? `embedded, ${local.dynamoDbDataDir ?? 'in memory'}` : 'external',
    devKey: devKey.key,
    devWebhookSecret: devKey.webhookSecret,
    devTenant: local.devTenant,
    adminApiKey,
    adminKeyGenerated: !local.adminApiKey,
    receiver,
    demoZones: demo?.zones ?? [],
    logger: apiDeps.logger,
    async stop() {
      for (const stop of stops) await stop().catch(() => {})
    },
  }
}
