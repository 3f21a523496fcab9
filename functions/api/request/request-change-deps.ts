import { buildChangeDeps } from '#shared/changes/change-deps.ts'
import type { ChangeDeps } from '#shared/changes/change-request.ts'
import type { Logger } from '#shared/logger.ts'
import type { ApiDeps } from './context.ts'

/** The change machinery with the API's stores, client and this request's logger. */
export const changeDepsFor = (
  deps: Pick<
    ApiDeps,
    | 'tasks'
    | 'taskNos'
    | 'targetLocks'
    | 'changes'
    | 'domainStates'
    | 'events'
    | 'eventSequence'
    | 'upstream'
    | 'now'
    | 'settings'
    | 'changeRecheckMs'
    | 'newTaskId'
  >,
  logger: Logger,
): ChangeDeps => buildChangeDeps({ ...deps, stores: deps, logger })
