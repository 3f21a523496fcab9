import type { Context } from 'aws-lambda'
import { loadGatewayConfig } from '#shared/config/gateway-config.ts'
import { loadWorkerConfig } from '#shared/config/worker-config.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { beginInvocation } from '../invocation.ts'
import { lambdaEnvironment } from '../runtime-env.ts'
import { buildPollerDeps } from './deps.ts'

const env = await lambdaEnvironment()
const deps = buildPollerDeps(loadGatewayConfig(env), loadWorkerConfig(env))
/** Leave room to write the last results before Lambda stops the invocation. */
const SAFETY_MARGIN_MS = 5_000
/** A run never outlasts the one-minute schedule by much; overlapping runs are safe anyway. */
const MAX_RUN_MS = 55_000

/** EventBridge `rate(1 minute)` entry point: drains due work until the time budget is spent. */
export async function handler(
  _event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) {
  beginInvocation(context)
  const remaining = context.getRemainingTimeInMillis()
  const budget = Math.min(MAX_RUN_MS, remaining - SAFETY_MARGIN_MS)
  const now = deps.now()
  // Callbacks are sent only if they can finish before Lambda stops the invocation.
  const stats = await runPoller(deps, now + Math.max(0, budget), {
    hardStop: now + remaining - 1_000,
  })
  deps.logger.info('poller run finished', { ...stats })
  deps.metrics?.flush()
  return stats
}
