import * as z from 'zod'
import { commaList, type Env, parseEnv, rate, regex } from '#shared/composition/env.ts'

export const EmulatorEnvSchema = z.object({
  EMULATOR_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  EMULATOR_HOST: z.string().default('127.0.0.1'),
  ALIYUN_ACCESS_KEY_ID: z.string().min(1).optional(),
  ALIYUN_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  ALIYUN_SECURITY_TOKEN: z.string().min(1).optional(),
  EMULATOR_TASK_MS: z.coerce.number().int().min(0).max(3_600_000).default(2_000),
  /** The parent zone over DNS (UDP and TCP) on this port; 0 picks a free one; unset: off. */
  EMULATOR_DNS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  EMULATOR_DS_PUBLISH_DELAY_MS: z.coerce.number().int().min(0).max(86_400_000).default(500),
  EMULATOR_DS_TTL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(2),
  EMULATOR_TIMESTAMP_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** Shifts the emulator's clock, to try a gateway against a service whose clock is off. */
  EMULATOR_CLOCK_OFFSET_SECONDS: z.coerce.number().int().min(-86_400).max(86_400).default(0),
  EMULATOR_UNREGISTERED_PATTERN: regex('^unregistered'),
  EMULATOR_UNREGISTERED_DOMAINS: commaList,
  EMULATOR_FAILING_PATTERN: regex('^fail'),
  /**
   * `documented` (default) or `adversarial`: the latter varies what the public documents leave
   * open (listing order, DS task types, listing delay, batch failures, durations, unrelated tasks);
   * the settings below pin one of them.
   */
  EMULATOR_PROFILE: z.enum(['documented', 'adversarial']).default('documented'),
  EMULATOR_LIST_ORDER: z.enum(['newest', 'oldest', 'random']).optional(),
  EMULATOR_LISTING_DELAY_MS: z.coerce.number().int().min(0).max(600_000).optional(),
  EMULATOR_BATCH_FAILURE: z.enum(['request', 'detail']).optional(),
  EMULATOR_UNRELATED_TASKS: z.coerce.number().int().min(0).max(100_000).optional(),
  EMULATOR_LATENCY_MS: z.coerce.number().int().min(0).max(120_000).optional(),
  EMULATOR_THROTTLE_RATE: rate,
  EMULATOR_UNAVAILABLE_RATE: rate,
  EMULATOR_5XX_RATE: rate,
  EMULATOR_5XX_EMPTY_RATE: rate,
  EMULATOR_RESET_RATE: rate,
  EMULATOR_MALFORMED_RATE: rate,
  EMULATOR_NETWORK_IO_ERROR_RATE: rate,
  EMULATOR_SLOW_BODY_MS: z.coerce.number().int().min(0).max(120_000).optional(),
  EMULATOR_FAULT_ACTIONS: commaList,
  EMULATOR_FAULTS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (!value) return []
      try {
        const parsed: unknown = JSON.parse(value)
        if (Array.isArray(parsed)) return parsed as Record<string, unknown>[]
      } catch {}
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of fault rules' })
      return z.NEVER
    }),
})

/** A fault rule as configured; the emulator validates its shape. */
type FaultRuleConfig = Record<string, unknown>

interface EmulatorConfig {
  readonly port: number | undefined
  readonly host: string
  readonly credential: { accessKeyId: string; accessKeySecret: string; securityToken?: string }
  readonly taskMs: number
  /** The parent zone over DNS, when EMULATOR_DNS_PORT is set. */
  readonly parentZone:
    | { readonly port: number; readonly publishDelayMs: number; readonly dsTtlSeconds: number }
    | undefined
  readonly timestampWindowMs: number
  readonly clockOffsetMs: number
  readonly unregisteredPattern: RegExp
  readonly unregisteredDomains: readonly string[]
  readonly failingPattern: RegExp
  readonly faults: readonly FaultRuleConfig[]
  /** The behaviour profile and what is pinned of it (see infra/emulator/behaviour.ts). */
  readonly behaviour: {
    readonly profile: 'documented' | 'adversarial'
    readonly listOrder?: 'newest' | 'oldest' | 'random'
    readonly listingDelayMs?: number
    readonly batchFailure?: 'request' | 'detail'
    readonly unrelatedTasks?: number
  }
}

/**
 * Settings of the Domain API emulator. Credentials default to the documented local ones; each
 * `EMULATOR_*_RATE` becomes one fault rule, limited to `EMULATOR_FAULT_ACTIONS` when set.
 */
export function loadEmulatorConfig(
  env: Env = process.env,
  localDefaults: { accessKeyId: string; accessKeySecret: string },
): EmulatorConfig {
  const parsed = parseEnv(EmulatorEnvSchema, env)
  const actions =
    parsed.EMULATOR_FAULT_ACTIONS.length > 0 ? parsed.EMULATOR_FAULT_ACTIONS : undefined
  const rules: FaultRuleConfig[] = []
  const addRule = (kind: string, rateValue: number | undefined, extra: object = {}) => {
    if (rateValue !== undefined && rateValue > 0)
      rules.push({ kind, rate: rateValue, actions, ...extra })
  }
  if (parsed.EMULATOR_LATENCY_MS) addRule('latency', 1, { ms: parsed.EMULATOR_LATENCY_MS })
  addRule('throttle', parsed.EMULATOR_THROTTLE_RATE)
  addRule('unavailable', parsed.EMULATOR_UNAVAILABLE_RATE)
  addRule('error5xx', parsed.EMULATOR_5XX_RATE)
  addRule('error5xxEmpty', parsed.EMULATOR_5XX_EMPTY_RATE)
  addRule('reset', parsed.EMULATOR_RESET_RATE)
  addRule('malformed', parsed.EMULATOR_MALFORMED_RATE)
  addRule('networkIoError', parsed.EMULATOR_NETWORK_IO_ERROR_RATE)
  if (parsed.EMULATOR_SLOW_BODY_MS) addRule('slowBody', 1, { ms: parsed.EMULATOR_SLOW_BODY_MS })
  return {
    port: parsed.EMULATOR_PORT,
    host: parsed.EMULATOR_HOST,
    credential: {
      accessKeyId: parsed.ALIYUN_ACCESS_KEY_ID ?? localDefaults.accessKeyId,
      accessKeySecret: parsed.ALIYUN_ACCESS_KEY_SECRET ?? localDefaults.accessKeySecret,
      ...(parsed.ALIYUN_SECURITY_TOKEN ? { securityToken: parsed.ALIYUN_SECURITY_TOKEN } : {}),
    },
    taskMs: parsed.EMULATOR_TASK_MS,
    parentZone:
      parsed.EMULATOR_DNS_PORT === undefined
        ? undefined
        : {
            port: parsed.EMULATOR_DNS_PORT,
            publishDelayMs: parsed.EMULATOR_DS_PUBLISH_DELAY_MS,
            dsTtlSeconds: parsed.EMULATOR_DS_TTL_SECONDS,
          },
    timestampWindowMs: parsed.EMULATOR_TIMESTAMP_WINDOW_SECONDS * 1000,
    clockOffsetMs: parsed.EMULATOR_CLOCK_OFFSET_SECONDS * 1000,
    unregisteredPattern: parsed.EMULATOR_UNREGISTERED_PATTERN,
    unregisteredDomains: parsed.EMULATOR_UNREGISTERED_DOMAINS,
    failingPattern: parsed.EMULATOR_FAILING_PATTERN,
    faults: [...rules, ...parsed.EMULATOR_FAULTS],
    behaviour: {
      profile: parsed.EMULATOR_PROFILE,
      ...(parsed.EMULATOR_LIST_ORDER ? { listOrder: parsed.EMULATOR_LIST_ORDER } : {}),
      ...(parsed.EMULATOR_LISTING_DELAY_MS !== undefined
        ? { listingDelayMs: parsed.EMULATOR_LISTING_DELAY_MS }
        : {}),
      ...(parsed.EMULATOR_BATCH_FAILURE ? { batchFailure: parsed.EMULATOR_BATCH_FAILURE } : {}),
      ...(parsed.EMULATOR_UNRELATED_TASKS !== undefined
        ? { unrelatedTasks: parsed.EMULATOR_UNRELATED_TASKS }
        : {}),
    },
  }
}
