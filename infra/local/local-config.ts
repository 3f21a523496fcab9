import * as z from 'zod'
import { booleanFlag, type Env, parseEnv } from '#shared/composition/env.ts'
import { LOCAL_DEFAULTS } from '#shared/local-defaults.ts'

const port = z.coerce.number().int().min(0).max(65_535)

export const LocalEnvSchema = z.object({
  PORT: port.default(LOCAL_DEFAULTS.apiPort),
  EMULATOR_PORT: port.default(LOCAL_DEFAULTS.emulatorPort),
  DYNAMODB_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  DYNAMODB_DATA_DIR: z.string().min(1).optional(),
  ALIYUN_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  DEV_API_KEY: z
    .string()
    .regex(
      /^dgw_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/,
      'must be a key this gateway issued (dgw_<16>_<43>)',
    )
    .optional(),
  DEV_TENANT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/)
    .default('local-dev'),
  ADMIN_API_KEY: z.string().min(24).optional(),
  POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  CALLBACK_RECEIVER_PORT: port.default(LOCAL_DEFAULTS.receiverPort),
  PRINT_CALLBACKS: booleanFlag(true),
})

interface LocalConfig {
  readonly port: number
  readonly emulatorPort: number
  /** Unset: start the embedded engine. */
  readonly dynamoDbEndpoint: string | undefined
  readonly dynamoDbDataDir: string | undefined
  /** Unset: start the emulator. */
  readonly aliyunEndpoint: string | undefined
  readonly devApiKey: string | undefined
  readonly devTenant: string
  readonly adminApiKey: string | undefined
  /** Pause between poller runs under `npm start`. */
  readonly pollIntervalMs: number
  readonly callbackReceiverPort: number
  /** Run the bundled receiver and point the dev key's callbacks at it. */
  readonly printCallbacks: boolean
}

/** Settings of `npm start` (the local all-in-one runner). */
export function loadLocalConfig(env: Env = process.env): LocalConfig {
  const parsed = parseEnv(LocalEnvSchema, env)
  return {
    port: parsed.PORT,
    emulatorPort: parsed.EMULATOR_PORT,
    dynamoDbEndpoint: parsed.DYNAMODB_ENDPOINT,
    dynamoDbDataDir: parsed.DYNAMODB_DATA_DIR,
    aliyunEndpoint: parsed.ALIYUN_ENDPOINT,
    devApiKey: parsed.DEV_API_KEY,
    devTenant: parsed.DEV_TENANT,
    adminApiKey: parsed.ADMIN_API_KEY,
    pollIntervalMs: parsed.POLL_INTERVAL_MS,
    callbackReceiverPort: parsed.CALLBACK_RECEIVER_PORT,
    printCallbacks: parsed.PRINT_CALLBACKS,
  }
}
