/**
 * Secrets are not put in the deployment template: each is referenced by its SSM Parameter Store
 * name in `<VARIABLE>_PARAM` and read (decrypted) once per cold start. A variable that is set
 * directly wins, so local runs and tests need no SSM.
 */
export const SECRET_VARIABLES = [
  'ALIYUN_ACCESS_KEY_ID',
  'ALIYUN_ACCESS_KEY_SECRET',
  'ALIYUN_SECURITY_TOKEN',
  'ADMIN_API_KEY',
  'SYNC_WEBHOOK_SECRET',
] as const

type Env = Readonly<Record<string, string | undefined>>

/** Reads SecureString parameters by name; missing names are left out of the answer. */
export type ParameterReader = (names: readonly string[]) => Promise<Record<string, string>>

export class SecretParameterError extends Error {
  override name = 'SecretParameterError'
}

/** Returns `env` with every `<VARIABLE>_PARAM` replaced by the parameter's value. */
export async function resolveSecretParameters(env: Env, read: ParameterReader): Promise<Env> {
  const wanted = SECRET_VARIABLES.filter((name) => !env[name] && env[`${name}_PARAM`])
  if (wanted.length === 0) return env
  const names = wanted.map((name) => env[`${name}_PARAM`] as string)
  const values = await read(names)
  const resolved: Record<string, string | undefined> = { ...env }
  for (const name of wanted) {
    const parameter = env[`${name}_PARAM`] as string
    const value = values[parameter]
    if (value === undefined) {
      throw new SecretParameterError(
        `${name}_PARAM names the parameter ${parameter}, which does not exist`,
      )
    }
    resolved[name] = value
  }
  return resolved
}
