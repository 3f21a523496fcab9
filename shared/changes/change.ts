import type { DsRecord } from '../dns/dnskey.ts'
import type { DueItem } from '../ports/due-item-store.ts'
import type { ChangeSafety } from '../tasks/change-safety.ts'
import type { Task } from '../tasks/task.ts'
import type { DsPlan, NameServerPlan } from './desired-plan.ts'

export const CHANGE_STATUSES = ['running', 'succeeded', 'failed'] as const
/**
 * Public statuses, and two the API never shows: `proposed` (written before the request is decided;
 * nothing executes it) and `withdrawn` (a proposal refused or left behind; it never ran).
 */
type ChangeStatus = (typeof CHANGE_STATUSES)[number] | 'proposed' | 'withdrawn'

/** A change that was accepted (its request answered 202): the only kind the API shows. */
export function isAccepted(change: Pick<Change, 'status'>): boolean {
  return change.status !== 'proposed' && change.status !== 'withdrawn'
}

/** A change that holds its domain for its kind: running, or being decided. */
export function changeInFlight(change: Pick<Change, 'status'> | undefined): boolean {
  return change?.status === 'running' || change?.status === 'proposed'
}
export type ChangeKind = 'ds' | 'name-servers'

export interface DesiredDs {
  readonly records: readonly DsRecord[]
  /** Apply again when drift is found. */
  readonly repair: boolean
}

export interface DesiredNs {
  readonly aliyunDns: boolean
  readonly nameServers: readonly string[]
  readonly repair: boolean
}

/**
 * A desired state being applied to one domain: its plan and the tasks (steps) that carry it out
 * through the domain's queue, adds before removes. Final when every step is final.
 */
export interface Change extends DueItem {
  readonly tenant: string
  readonly keyId: string
  readonly domain: string
  readonly kind: ChangeKind
  readonly status: ChangeStatus
  readonly plan: DsPlan | NameServerPlan
  readonly desired: DesiredDs | DesiredNs
  /** Task ids, in the order they run. */
  readonly steps: readonly string[]
  readonly callbackUrl?: string | undefined
  /**
   * `api`: a PUT; `repair`: the drift check applying the desired state again; `dnssec`: the
   * CDS/CDNSKEY scanner moving a rollover on.
   */
  readonly trigger: 'api' | 'repair' | 'dnssec'
  /** The pre-flight verdict of its end state, and whether the caller forced it (see preflight/). */
  readonly safety?: ChangeSafety | undefined
  readonly error?: { readonly code: string; readonly message: string } | undefined
  readonly createdAt: string
  readonly updatedAt: string
  readonly completedAt?: string | undefined
  /** When the parent served what every step changed (see publication/). */
  readonly publishedAt?: string | undefined
}

export const CHANGE_ID_PATTERN = /^chg_[A-Za-z0-9]{10,40}$/

/** The public view of a change, with where each step stands. */
export function toChangeResource(change: Change, steps: readonly (Task | undefined)[]) {
  return {
    id: change.id,
    domain: change.domain,
    kind: change.kind,
    status: change.status,
    done: change.status !== 'running',
    trigger: change.trigger,
    safety: change.safety,
    plan: change.plan,
    desired: change.desired,
    steps: change.steps,
    progress: change.steps.map((id, index) => {
      const task = steps[index]
      return {
        taskId: id,
        action: task?.action,
        status: task?.status ?? 'unknown',
        error: task?.error,
      }
    }),
    error: change.error,
    callbackUrl: change.callbackUrl,
    createdAt: change.createdAt,
    updatedAt: change.updatedAt,
    completedAt: change.completedAt,
    publishedAt: change.publishedAt,
  }
}
