import { resolveSecretParameters, SECRET_VARIABLES } from '../secret-parameters.ts'
import { loadEnvironment } from './env.ts'
import { buildGraph, type Graph } from './graph.ts'
import { loadSettings } from './settings.ts'

/**
 * The environment a Lambda function runs with: its variables, plus the secrets named by
 * `*_PARAM` read from SSM Parameter Store. Awaited once per cold start (top-level await). The SSM
 * client is loaded only when a parameter has to be read.
 */
export function lambdaEnvironment() {
  return loadEnvironment(async (env) => {
    const needed = SECRET_VARIABLES.some((name) => !env[name] && env[`${name}_PARAM`])
    if (!needed) return env
    const { ssmParameterReader } = await import('../store/ssm-parameters.ts')
    return resolveSecretParameters(
      env,
      ssmParameterReader(env.AWS_REGION, env.SSM_ENDPOINT || undefined),
    )
  })
}

/**
 * The X-Ray trace header of the invocation running now: the Lambda runtime sets `_X_AMZN_TRACE_ID`
 * afresh for each invocation (a value of the invocation, not configuration).
 */
export function invocationTraceHeader(): string | undefined {
  return process.env._X_AMZN_TRACE_ID
}

/**
 * A Lambda function's graph: its environment read (secrets from SSM), its settings parsed, its
 * parts built — once per execution environment, at cold start (top-level await).
 */
export async function lambdaGraph(): Promise<Graph> {
  return buildGraph(loadSettings(await lambdaEnvironment()))
}
