import type { Context } from 'aws-lambda'
import { lambdaGraph } from '#shared/composition/lambda-environment.ts'
import { runScheduledSync } from '#shared/sync/run-scheduled-sync.ts'
import { parseSyncEvent, SyncSchedulesFileSchema } from '#shared/sync/sync-schedules.ts'
import schedulesFile from '../../infra/sync-schedules.json' with { type: 'json' }
import { beginInvocation } from '../invocation.ts'
import { syncDepsFrom } from './deps.ts'

const graph = await lambdaGraph()
const deps = syncDepsFrom(graph)
const { schedules } = SyncSchedulesFileSchema.parse(schedulesFile)

/** EventBridge schedule entry point: the envelope or the `input:` form, see `parseSyncEvent`. */
export async function handler(event: unknown, context: Pick<Context, 'awsRequestId'>) {
  beginInvocation(context)
  const request = parseSyncEvent(event, schedules, context.awsRequestId)
  const results = await runScheduledSync(deps, request, graph.settings.sync.callbackUrl)
  deps.logger.info('scheduled sync finished', {
    eventId: request.eventId,
    schedule: request.schedule,
    results,
  })
  return { eventId: request.eventId, results }
}
