import type { Context } from 'aws-lambda'
import { buildDnssecDeps } from '#shared/composition/dnssec-deps.ts'
import { loadGatewayConfig } from '#shared/composition/gateway-env.ts'
import { loadWorkerConfig } from '#shared/composition/worker-env.ts'
import { runDriftCheck } from '#shared/desired/check-drift.ts'
import { runDnssecScans } from '#shared/dns/dnssec-service.ts'
import { createStores } from '#shared/store/stores.ts'
import { lambdaEnvironment } from '../../shared/composition/lambda-environment.ts'
import { beginInvocation } from '../invocation.ts'
import { buildDriftDeps } from './deps.ts'

const env = await lambdaEnvironment()
const gateway = loadGatewayConfig(env)
const worker = loadWorkerConfig(env)
const deps = buildDriftDeps(gateway, worker)
const dnssec = buildDnssecDeps(deps, createStores(gateway.store).dnssecStates, worker)
/** Leave room to finish the domain in hand before Lambda stops the invocation. */
const SAFETY_MARGIN_MS = 10_000

/**
 * EventBridge `rate(…)` entry point: one pass over the managed domains (drift), then one over the
 * domains enrolled in DNSSEC automation (CDS/CDNSKEY scans), each within the time left.
 */
export async function handler(
  _event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) {
  beginInvocation(context)
  const deadline = deps.now() + Math.max(0, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS)
  const stats = await runDriftCheck(deps, { deadline })
  const scans = await runDnssecScans(dnssec, { deadline })
  deps.logger.info('drift check and DNSSEC scans finished', { ...stats, dnssec: scans })
  return { ...stats, dnssec: scans }
}
