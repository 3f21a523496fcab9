import type { Context } from 'aws-lambda'
import { buildDnssecDeps } from '#shared/composition/dnssec-deps.ts'
import { lambdaGraph } from '#shared/composition/lambda-environment.ts'
import { runDriftCheck } from '#shared/desired/check-drift.ts'
import { runDnssecScans } from '#shared/dnssec-automation/dnssec-service.ts'
import { beginInvocation } from '../invocation.ts'
import { driftDepsFrom } from './deps.ts'

const graph = await lambdaGraph()
const deps = driftDepsFrom(graph)
const dnssec = buildDnssecDeps(deps, graph.stores.dnssecStates, graph.settings)
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
  graph.metrics.flush()
  return { ...stats, dnssec: scans }
}
