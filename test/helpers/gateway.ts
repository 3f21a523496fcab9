import { randomBytes } from 'node:crypto'
import { createApp } from '#functions/api/app.ts'
import { buildApiDeps } from '#functions/api/deps.ts'
import type { ApiDeps } from '#functions/api/request/context.ts'
import { buildPollerDeps } from '#functions/poller/deps.ts'
import type { EmulatorOptions } from '#infra/emulator/app.ts'
import type { ParentZoneSettings, RunningEmulator } from '#infra/emulator/server.ts'
import { ensureTable, type LocalDynamoDb, startLocalDynamoDb } from '#infra/local/dynamodb-local.ts'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { limiterFor } from '#shared/composition/limiter-for.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { randomId } from '#shared/ids.ts'
import { silentLogger } from '#shared/logger.ts'
import type { ProcessOutcome } from '#shared/poller/poller-deps.ts'
import { type PollerRunStats, runPoller } from '#shared/poller/run-poller.ts'
import { createStores } from '#shared/store/stores.ts'
import { isTerminal, type Scope } from '#shared/tasks/task.ts'
import type { TaskStore } from '#shared/tasks/task-store.ts'
import type { ResolveAll } from '#shared/webhooks/callback-url.ts'
import { callbackUrlChecker } from '#shared/webhooks/callback-url.ts'
import { startTestEmulator, TEST_CREDENTIAL } from './emulator.ts'
import { startMoto } from './moto.ts'

export const ADMIN_KEY = 'admin-key-for-tests-0123456789abcdef'
export const ALL_SCOPES: Scope[] = ['ds:write', 'dns:write', 'sync:write', 'tasks:read']

/**
 * The DynamoDB engine the tests run against: the embedded dynalite by default, or moto_server
 * (which follows DynamoDB more closely, e.g. `ReturnValuesOnConditionCheckFailure`) when
 * `TEST_DYNAMODB_ENGINE=moto` — the `moto` test project sets it.
 */
export const TEST_DYNAMODB_ENGINE =
  process.env.TEST_DYNAMODB_ENGINE === 'moto' ? 'moto' : 'dynalite'

let sharedDb: Promise<LocalDynamoDb> | undefined
/** One DynamoDB engine per test file (each harness gets its own table). */
export function localDynamoDb(): Promise<LocalDynamoDb> {
  sharedDb ??=
    TEST_DYNAMODB_ENGINE === 'moto'
      ? startMoto().then((moto) => ({ endpoint: moto.endpoint, close: moto.stop }))
      : startLocalDynamoDb()
  return sharedDb
}

export interface Harness {
  readonly app: ReturnType<typeof createApp>
  readonly deps: ApiDeps
  readonly emulator: RunningEmulator
  readonly env: Record<string, string>
  /** A key with every scope for tenant `alpha`. */
  readonly key: string
  request(path: string, init?: RequestInit & { key?: string | null }): Promise<Response>
  newKey(
    tenant: string,
    scopes: Scope[],
    callbackUrl?: string,
  ): Promise<{ id: string; key: string; webhookSecret: string }>
  /**
   * Runs a fast poller until every given task is final (queued tasks are sent in their turn);
   * fails once `timeoutMs` pass in which no task moved.
   */
  settle(taskIds: readonly string[], timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/**
 * Whether a poller run moved anything on: sent a task, finished or reconciled one, made a
 * delivery attempt (a poll of a task still running, or a look at a queue that still waits, does
 * not count). Drains in tests are bounded by time in which nothing moved, not by their length.
 */
export function moved(outcomes: PollerRunStats['outcomes']): boolean {
  return MOVES.some((outcome) => (outcomes[outcome] ?? 0) > 0)
}

/**
 * The budget of each poller run in a drain: `baseMs` while runs reach due items, doubled (up to
 * `maxMs`) after each run that worked on none. A run does its housekeeping before its rounds, and
 * a busy machine can spend a short budget on that alone, run after run: a drain must still reach
 * its items, however slow the machine. (A run that only polled still reached them: its budget
 * stays short, so a test that moves a clock between runs keeps its pace.)
 */
export function runBudget(baseMs: number, maxMs = 2_000) {
  let ms = baseMs
  return {
    /** The budget of the next run. */
    next: () => ms,
    /** Told what the last run did. */
    after(outcomes: PollerRunStats['outcomes']) {
      const reached = Object.values(outcomes).some((count) => (count ?? 0) > 0)
      ms = reached ? baseMs : Math.min(ms * 2, maxMs)
    },
  }
}

const MOVES: readonly ProcessOutcome[] = [
  'sent',
  'completed',
  'reconciled',
  'delivered',
  'callback-failed',
]

export async function startHarness(
  options: {
    emulatorTaskMs?: number
    emulator?: Partial<EmulatorOptions>
    overrides?: Partial<ApiDeps>
    env?: Record<string, string>
    /** Wraps the real task store, e.g. to inject failures. */
    wrapTasks?: (real: TaskStore) => TaskStore
    /** Wraps the API's upstream client, e.g. with crash points (see crash-points.ts). */
    wrapUpstream?: (real: DomainApiClient) => DomainApiClient
    /** The emulator also plays the parent zone over DNS. */
    parentZone?: ParentZoneSettings
  } = {},
): Promise<Harness> {
  const db = await localDynamoDb()
  const tableName = `gw-${randomId('t', 10).toLowerCase()}`
  await ensureTable(db.endpoint, tableName)
  const emulator = await startTestEmulator({
    ...options.emulator,
    account: { ...options.emulator?.account, taskMs: options.emulatorTaskMs ?? 60_000 },
    parentZone: options.parentZone,
  })
  const env = {
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: db.endpoint,
    AWS_REGION: 'us-east-1',
    ADMIN_API_KEY: ADMIN_KEY,
    ALIYUN_ENDPOINT: emulator.url,
    ALIYUN_ACCESS_KEY_ID: TEST_CREDENTIAL.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: TEST_CREDENTIAL.accessKeySecret,
    ALIYUN_TIMEOUT_MS: '2000',
    CALLBACK_ALLOW_HTTP: 'true',
    CALLBACK_ALLOW_LOOPBACK: 'true',
    // Tests ask only the DNS servers they start (never the internet's); a zone none serves is
    // `unverified`, carried out as under npm start (the refusal has its own tests).
    DNS_LOOKUP: 'overrides',
    PREFLIGHT_UNVERIFIED: 'proceed',
    // Tests read the registry right after changing it; the read cache has its own test.
    REGISTRY_READ_CACHE_SECONDS: '0',
    // Tests send bursts no tenant would; the limits have their own test (rate-limits.test.ts).
    RATE_LIMIT_WRITES_PER_MINUTE: '0',
    RATE_LIMIT_UPSTREAM_READS_PER_MINUTE: '0',
    RATE_LIMIT_READS_PER_MINUTE: '0',
    RATE_LIMIT_REDELIVERIES_PER_MINUTE: '0',
    ...(emulator.parentZone
      ? { DNSSEC_TRUST_ANCHORS: emulator.parentZone.publication.trustAnchors() }
      : {}),
    ...options.env,
  }
  const settings = loadSettings(env)
  const built = buildApiDeps(settings, {
    logger: silentLogger,
    checkCallbackUrl: callbackUrlChecker(settings.callbacks, testResolve),
    upstream: (options.wrapUpstream ?? ((real) => real))(
      new DomainApiClient({
        config: settings.upstream,
        sleep: async () => {},
        // The account-wide rate, as production wires it (off unless UPSTREAM_RATE_PER_SECOND).
        limiter: limiterFor(settings.upstream, createStores(settings.store).buckets),
      }),
    ),
    ...options.overrides,
  })
  const deps = options.wrapTasks ? { ...built, tasks: options.wrapTasks(built.tasks) } : built
  const app = createApp(deps)
  const newKey = (tenant: string, scopes: Scope[], callbackUrl?: string) =>
    createApiKey({ ...deps, randomBytes }, { tenant, scopes, callbackUrl })
  const { key } = await newKey('alpha', ALL_SCOPES)
  return {
    app,
    deps,
    emulator,
    env,
    key,
    newKey,
    request(path, init = {}) {
      const { key: useKey, ...rest } = init
      const headers = new Headers(rest.headers)
      const bearer = useKey === undefined ? key : useKey
      if (bearer !== null && !headers.has('authorization'))
        headers.set('authorization', `Bearer ${bearer}`)
      if (rest.body !== undefined && !headers.has('content-type'))
        headers.set('content-type', 'application/json')
      return Promise.resolve(app.request(`http://gateway.test${path}`, { ...rest, headers }))
    },
    async settle(taskIds, timeoutMs = 10_000) {
      const base = buildPollerDeps(settings, { logger: silentLogger })
      const changes = base.changes && {
        ...base.changes,
        tasks: deps.tasks,
        settings: SETTLE_SUBMIT(deps),
        changeRecheckMs: 50,
      }
      const poller = {
        ...base,
        tasks: deps.tasks,
        send: changes,
        changes,
        settings: { ...base.settings, ...SETTLE_POLLER },
      }
      // A busy machine settles slowly, not never: the bound is on time in which no task moved.
      let deadline = Date.now() + timeoutMs
      // moto's due-index queries are slow: its runs start with a longer budget.
      const budget = runBudget(TEST_DYNAMODB_ENGINE === 'moto' ? 250 : 50)
      const final = async () =>
        (await Promise.all(taskIds.map((id) => deps.tasks.get(id, Date.now())))).every(
          (task) => task !== undefined && isTerminal(task.status),
        )
      while (!(await final())) {
        if (Date.now() > deadline) {
          throw new Error(`the tasks did not settle: nothing moved for ${timeoutMs} ms`)
        }
        const { outcomes } = await runPoller(poller, Date.now() + budget.next())
        budget.after(outcomes)
        if (moved(outcomes)) deadline = Date.now() + timeoutMs
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    },
    close: () => emulator.close(),
  }
}

/** How `settle` paces the poller: polls and queue checks every 20 ms. */
const SETTLE_POLLER = {
  owner: 'settle',
  pollDelaysMs: [20],
  idleWaitMs: 10,
  leaseMs: 2_000,
  reconcileRetryMs: 20,
}
const SETTLE_SUBMIT = (deps: ApiDeps) => ({
  ...deps.settings,
  firstPollDelayMs: 20,
  queue: {
    ...deps.settings.queue,
    headRecheckDelaysMs: [20],
    recheckDelaysMs: [50],
    busyRetryDelaysMs: [50],
  },
})

/** Name resolution for tests (no network here): fixed answers, ENOTFOUND otherwise. */
export const TEST_HOSTS: Record<string, string[]> = {
  'hooks.example.com': ['93.184.215.14'],
  'app.example.com': ['93.184.215.14'],
  'billing.example.com': ['93.184.215.14'],
  'elsewhere.example.com': ['93.184.215.14'],
  'rebind.test': ['169.254.169.254'],
  'internal.test': ['10.0.0.5'],
  'mixed.test': ['93.184.215.14', '127.0.0.1'],
  'v6-metadata.test': ['fd00:ec2::254'],
  localhost: ['127.0.0.1', '::1'],
}

export const testResolve: ResolveAll = async (hostname) => {
  const addresses = TEST_HOSTS[hostname]
  if (!addresses)
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
  return addresses
}

export const postJson = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body: JSON.stringify(body),
  headers,
})
