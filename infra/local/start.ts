import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createApp } from '#functions/api/app.ts'
import { buildApiDeps } from '#functions/api/deps.ts'
import { createApiKey } from '#functions/api/routes/admin-routes.ts'
import type { FaultRuleInput } from '#infra/emulator/faults.ts'
import { startEmulator } from '#infra/emulator/server.ts'
import { apiKeyId } from '#shared/auth/api-keys.ts'
import { loadEmulatorConfig, loadGatewayConfig, loadLocalConfig } from '#shared/config.ts'
import { LOCAL_DEFAULTS } from '#shared/local-defaults.ts'
import { ensureTable, startLocalDynamoDb } from './dynamodb-local.ts'

/**
 * `npm start`: the whole gateway in one process — the embedded DynamoDB, the Domain API emulator
 * and the API — unless DYNAMODB_ENDPOINT / ALIYUN_ENDPOINT point at real services.
 */
const env = process.env
const local = loadLocalConfig(env, LOCAL_DEFAULTS)
const stops: (() => Promise<void>)[] = []

const dynamoDb = local.dynamoDbEndpoint
  ? { endpoint: local.dynamoDbEndpoint, embedded: false }
  : { ...(await startLocalDynamoDb({ path: local.dynamoDbDataDir })), embedded: true }
if ('close' in dynamoDb) stops.push(dynamoDb.close)

let aliyunEndpoint = local.aliyunEndpoint
if (!aliyunEndpoint) {
  const emulatorConfig = loadEmulatorConfig(env, LOCAL_DEFAULTS)
  const emulator = await startEmulator({
    port: local.emulatorPort,
    host: emulatorConfig.host,
    credentials: [emulatorConfig.credential],
    account: {
      taskMs: emulatorConfig.taskMs,
      unregisteredPattern: emulatorConfig.unregisteredPattern,
      unregisteredDomains: new Set(emulatorConfig.unregisteredDomains),
      failingPattern: emulatorConfig.failingPattern,
    },
    faults: emulatorConfig.faults as FaultRuleInput[],
  })
  stops.push(emulator.close)
  aliyunEndpoint = emulator.url
}

const adminApiKey = local.adminApiKey ?? `adm_${randomBytes(24).toString('base64url')}`
const gatewayEnv = {
  ALIYUN_ACCESS_KEY_ID: LOCAL_DEFAULTS.accessKeyId,
  ALIYUN_ACCESS_KEY_SECRET: LOCAL_DEFAULTS.accessKeySecret,
  CALLBACK_ALLOW_HTTP: 'true',
  AWS_REGION: 'local',
  ...env,
  ALIYUN_ENDPOINT: aliyunEndpoint,
  DYNAMODB_ENDPOINT: dynamoDb.endpoint,
  ADMIN_API_KEY: adminApiKey,
}
const config = loadGatewayConfig(gatewayEnv)
await ensureTable(dynamoDb.endpoint, config.store.tableName, config.store.region)
const deps = buildApiDeps(config)
const app = createApp(deps)

const devKeyId = local.devApiKey ? apiKeyId(local.devApiKey) : undefined
const existing = devKeyId ? await deps.apiKeys.get(devKeyId) : undefined
const devKey = existing
  ? { key: local.devApiKey as string, webhookSecret: '(unchanged; stored earlier)' }
  : await createApiKey(
      deps,
      { tenant: local.devTenant, scopes: ['ds:write', 'dns:write', 'sync:write', 'tasks:read'] },
      local.devApiKey,
    )

const server = serve({ fetch: app.fetch, port: local.port, hostname: '127.0.0.1' })
await new Promise<void>((resolve) => server.once('listening', () => resolve()))
const { port } = server.address() as AddressInfo
const base = `http://127.0.0.1:${port}`
stops.unshift(() => new Promise<void>((resolve) => server.close(() => resolve())))

console.log(`
domain-gateway is running locally
  API            ${base}   (docs: ${base}/docs)
  Domain API     ${aliyunEndpoint}${local.aliyunEndpoint ? '' : '   (emulator)'}
  DynamoDB       ${dynamoDb.endpoint}${dynamoDb.embedded ? `   (embedded, ${local.dynamoDbDataDir ?? 'in memory'})` : ''}
  API key        ${devKey.key}   (tenant ${local.devTenant}, all scopes)
  Webhook secret ${devKey.webhookSecret}
  Admin key      ${local.adminApiKey ? '(from ADMIN_API_KEY)' : adminApiKey}

Try it:
  curl -s -X POST ${base}/domains/example.com/ds \\
    -H 'Authorization: Bearer ${devKey.key}' \\
    -H 'Content-Type: application/json' -H 'Idempotency-Key: first-try' \\
    -d '{"keyTag":2371,"algorithm":13,"digestType":2,"digest":"f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598"}'
  curl -s ${base}/tasks -H 'Authorization: Bearer ${devKey.key}'
`)

async function shutdown() {
  for (const stop of stops) await stop().catch(() => {})
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
