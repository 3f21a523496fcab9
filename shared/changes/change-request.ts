/** What applying a desired state works with: its dependencies, the request, a change as stored, a race lost. */
import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import { ConflictError } from '../errors.ts'
import type { EventSequence } from '../events/event-sequence.ts'
import type { WebhookEvent } from '../events/webhook-event.ts'
import type { DueItemStore } from '../ports/due-item-store.ts'
import type { ChangeSafety } from '../tasks/change-safety.ts'
import type { SendDeps } from '../tasks/submit-deps.ts'
import type { TaskCommand } from '../tasks/task.ts'
import type { Change, ChangeKind, DesiredDs, DesiredNs } from './change.ts'
import type { DomainStateStore } from './domain-state.ts'

export interface ChangeDeps extends SendDeps {
  readonly changes: DueItemStore<Change>
  readonly domainStates: DomainStateStore
  readonly events: DueItemStore<WebhookEvent>
  /** Numbers a domain's events in the order they are made (`data.sequence`). */
  readonly eventSequence: EventSequence
  readonly registry: Pick<DomainApiClient, 'queryDsRecord' | 'queryDomain'>
  readonly newId: (prefix: 'tsk' | 'chg') => string
  /** How often a running change looks at its steps when nothing wakes it sooner. */
  readonly changeRecheckMs: number
}

export type ChangeRequest = {
  readonly tenant: string
  readonly keyId: string
  readonly domain: string
  readonly callbackUrl: string | undefined
  readonly trigger: Change['trigger']
  /**
   * The tenant is the domain's assigned manager: the domain's state, if another tenant wrote it
   * (before the assignment), becomes this tenant's.
   */
  readonly takeOver?: boolean | undefined
  /** The pre-flight verdict the change was accepted with (recorded on the change). */
  readonly safety?: ChangeSafety | undefined
} & (
  | { readonly kind: 'ds'; readonly desired: DesiredDs }
  | { readonly kind: 'name-servers'; readonly desired: DesiredNs }
)

/** One step of a change as it is stored, so a crash before its task was written can be repaired. */
export interface PlannedStep {
  readonly id: string
  readonly command: TaskCommand
  readonly after: readonly string[]
}

export interface StoredChange extends Change {
  readonly planned: readonly PlannedStep[]
}

/** Another change of the same kind for the domain started while this one was being planned. */
export class ChangeRaceError extends ConflictError {
  override name = 'ChangeRaceError'
  constructor() {
    super(
      'Another change of this domain was started at the same moment; nothing was accepted. Plan again and retry.',
    )
  }
}

export type { ChangeKind }
