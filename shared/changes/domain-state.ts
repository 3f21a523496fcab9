import type { PerDomainStore } from '../ports/per-domain-store.ts'
import type { ChangeKind, DesiredDs, DesiredNs } from './change.ts'

/** The change that applied a desired state. */
interface AppliedBy {
  readonly appliedAt: string
  readonly changeId: string
  readonly changeCreatedAt: string
}

/** The last applied desired state of one domain, who manages it, and its drift. */
export interface DomainState {
  readonly domain: string
  /** The tenant that manages the domain; another tenant neither sees nor changes it. */
  readonly tenant: string
  /** The key whose secrets sign the domain's events, and where they go. */
  readonly keyId: string
  readonly callbackUrl?: string | undefined
  readonly ds?: (DesiredDs & AppliedBy) | undefined
  readonly nameServers?: (DesiredNs & AppliedBy) | undefined
  /** The change still running per kind: a new one is planned after it and runs only if it succeeds. */
  readonly open?: Partial<Record<ChangeKind, string>> | undefined
  /** What the last drift check reported (an event is sent only when this flips). */
  readonly drift?:
    | {
        readonly inSync: boolean
        readonly since: string
        readonly checkedAt: string
        /** Events sent so far: part of each event's id, so a retried check sends it once. */
        readonly reported: number
      }
    | undefined
  readonly version: number
}

export type DomainStateStore = PerDomainStore<DomainState>
