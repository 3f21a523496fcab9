import type { Context } from 'aws-lambda'
import { lambdaEnvironment } from '#shared/composition/lambda-environment.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { runScheduledSync } from '#shared/sync/run-scheduled-sync.ts'
import { parseSyncEvent, SyncSchedulesFileSchema } from '#shared/sync/sync-schedules.ts'
import schedulesFile from '../../infra/sync-schedules.json' with { type: 'json' }
import { beginInvocation } from '../invocation.ts'
import { buildSyncDeps } from './deps.ts'

const env = await lambdaEnvironment()
const settings = loadSettings(env)
const deps = buildSyncDeps(settings)
const { schedules } = SyncSchedulesFileSchema.parse(schedulesFile)

/** EventBridge schedule entry point: the envelope or the `input:` form, see `parseSyncEvent`. */
export async function handler(event: unknown, context: Pick<Context, 'awsRequestId'>) {
  beginInvocation(context)
  const request = parseSyncEvent(event, schedules, context.awsRequestId)
  const results = await runScheduledSync(deps, request, settings.sync.callbackUrl)
  deps.logger.info('scheduled sync finished', {
    eventId: request.eventId,
    schedule: request.schedule,
    results,
  })
  return { eventId: request.eventId, results }
}
