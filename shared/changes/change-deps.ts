import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import { randomId } from '../ids.ts'
import type { Logger } from '../logger.ts'
import type { createStores } from '../store/stores.ts'
import type { SubmitSettings } from '../tasks/submit-task.ts'
import type { ChangeDeps } from './apply-change.ts'

/** What applying and settling changes needs, from the stores and the upstream client. */
export function buildChangeDeps(input: {
  readonly stores: ReturnType<typeof createStores>
  readonly upstream: DomainApiClient
  readonly now: () => number
  readonly logger: Logger
  readonly settings: SubmitSettings
  readonly changeRecheckMs: number
}): ChangeDeps {
  const { stores } = input
  return {
    tasks: stores.tasks,
    taskNos: stores.taskNos,
    targetLocks: stores.targetLocks,
    changes: stores.changes,
    domainStates: stores.domainStates,
    events: stores.events,
    upstream: input.upstream,
    registry: input.upstream,
    now: input.now,
    logger: input.logger,
    settings: input.settings,
    newId: (prefix) => randomId(prefix),
    changeRecheckMs: input.changeRecheckMs,
    nudgeChange: (id, at) => stores.changes.nudge(id, at),
  }
}
