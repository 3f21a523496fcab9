import type { ChangeDeps } from '#shared/changes/apply-change.ts'
import { randomId } from '#shared/ids.ts'
import type { Logger } from '#shared/logger.ts'
import type { ApiDeps } from './context.ts'

/** The change machinery with the API's stores, client and request logger. */
export function changeDepsFor(deps: ApiDeps, logger: Logger): ChangeDeps {
  return {
    tasks: deps.tasks,
    taskNos: deps.taskNos,
    targetLocks: deps.targetLocks,
    changes: deps.changes,
    domainStates: deps.domainStates,
    events: deps.events,
    upstream: deps.upstream,
    registry: deps.upstream,
    now: deps.now,
    logger,
    settings: deps.settings,
    newId: (prefix) => (prefix === 'tsk' ? deps.newTaskId() : randomId('chg')),
    changeRecheckMs: deps.changeRecheckMs,
    nudgeChange: (id, at) => deps.changes.nudge(id, at),
    beforeUpstreamCall: deps.beforeUpstreamCall,
    afterUpstreamCall: deps.afterUpstreamCall,
  }
}
