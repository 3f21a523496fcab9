import type { Context } from 'aws-lambda'
import { loadGatewayConfig, loadWorkerConfig } from '#shared/config.ts'
import { runDriftCheck } from '#shared/desired/check-drift.ts'
import { lambdaEnvironment } from '../runtime-env.ts'
import { buildDriftDeps } from './deps.ts'

const env = await lambdaEnvironment()
const deps = buildDriftDeps(loadGatewayConfig(env), loadWorkerConfig(env))
/** Leave room to finish the domain in hand before Lambda stops the invocation. */
const SAFETY_MARGIN_MS = 10_000

/** EventBridge `rate(…)` entry point: one pass over the managed domains. */
export async function handler(_event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) {
  const deadline = deps.now() + Math.max(0, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS)
  const stats = await runDriftCheck(deps, { deadline })
  deps.logger.info('drift check finished', { ...stats })
  return stats
}
