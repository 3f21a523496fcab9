import * as z from 'zod'

/**
 * How the environment is read: the gateway's settings (the `*-env.ts` schemas beside this file, in
 * the composition root), the emulator's and the local runner's (under infra/) are parsed with zod
 * from these helpers; a bad or missing value fails at start with a message naming the variable.
 */

/** A whole number from `min` to `max`; `fallback` when unset. */
export const wholeIn = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback)

/** A number above 0, at most `max`; `fallback` when unset. */
export const positiveUpTo = (max: number, fallback: number) =>
  z.coerce.number().positive().max(max).default(fallback)

export const positiveInt = (fallback: number) =>
  z.coerce.number().int().positive().default(fallback)

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export type Env = Readonly<Record<string, string | undefined>>

export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  // Empty strings count as unset, as a shell `FOO=` usually means.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  // Parsed once per process: zod's compiled fast path (generated code) would cost more to build
  // than it saves on a single parse.
  const result = schema.safeParse(cleaned, { jitless: true })
  if (result.success) return result.data
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)'
    return `${name} ${issue.message}`
  })
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`)
}

export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1' || value === 'yes')

/** Reads the process environment with secret parameters resolved; see `secret-parameters.ts`. */
export async function loadEnvironment(
  resolve: (env: Env) => Promise<Env>,
  env: Env = process.env,
): Promise<Env> {
  return resolve(env)
}

export const rate = z.coerce.number().min(0).max(1).optional()
export const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  )
export const regex = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => {
      try {
        return new RegExp(value)
      } catch {
        ctx.addIssue({ code: 'custom', message: 'is not a valid regular expression' })
        return z.NEVER
      }
    })
