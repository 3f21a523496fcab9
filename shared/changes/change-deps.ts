import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import type { EventSequence } from '../events/event-sequence.ts'
import type { WebhookEvent } from '../events/webhook-event.ts'
import { randomId } from '../ids.ts'
import type { Logger } from '../logger.ts'
import type { DueItemStore } from '../ports/due-item-store.ts'
import type { SubmitSettings } from '../tasks/submit-deps.ts'
import type { TaskSubmitter } from '../tasks/submit-to-upstream.ts'
import type { TargetLockStore } from '../tasks/target-locks.ts'
import type { TaskNoRegistry, TaskStore } from '../tasks/task-store.ts'
import type { Change } from './change.ts'
import type { ChangeDeps } from './change-request.ts'
import type { DomainStateStore } from './domain-state.ts'

/** The stores applying and settling changes reads and writes. */
interface ChangeStores {
  readonly tasks: TaskStore
  readonly taskNos: TaskNoRegistry
  readonly targetLocks: TargetLockStore
  readonly changes: DueItemStore<Change>
  readonly domainStates: DomainStateStore
  readonly events: DueItemStore<WebhookEvent>
  readonly eventSequence: EventSequence
}

/** What applying and settling changes needs: the one builder the API, the poller and drift use. */
export function buildChangeDeps(input: {
  readonly stores: ChangeStores
  readonly upstream: TaskSubmitter & Pick<DomainApiClient, 'queryDsRecord' | 'queryDomain'>
  readonly now: () => number
  readonly logger: Logger
  readonly settings: SubmitSettings
  readonly changeRecheckMs: number
  /** How a step's task id is made (default: a random `tsk_` id). */
  readonly newTaskId?: (() => string) | undefined
}): ChangeDeps {
  const { stores } = input
  const newTaskId = input.newTaskId ?? (() => randomId('tsk'))
  return {
    tasks: stores.tasks,
    taskNos: stores.taskNos,
    targetLocks: stores.targetLocks,
    changes: stores.changes,
    domainStates: stores.domainStates,
    events: stores.events,
    eventSequence: stores.eventSequence,
    upstream: input.upstream,
    registry: input.upstream,
    now: input.now,
    logger: input.logger,
    settings: input.settings,
    newId: (prefix) => (prefix === 'tsk' ? newTaskId() : randomId('chg')),
    changeRecheckMs: input.changeRecheckMs,
    nudgeChange: (id, at) => stores.changes.nudge(id, at),
  }
}
