import { loadEnvironment } from '#shared/config.ts'
import { resolveSecretParameters } from '#shared/secret-parameters.ts'
import { ssmParameterReader } from '#shared/store/ssm-parameters.ts'

/**
 * The environment a Lambda function runs with: its variables, plus the secrets named by
 * `*_PARAM` read from SSM Parameter Store. Awaited once per cold start (top-level await).
 */
export function lambdaEnvironment() {
  return loadEnvironment((env) =>
    resolveSecretParameters(env, ssmParameterReader(env.AWS_REGION, env.SSM_ENDPOINT || undefined)),
  )
}
