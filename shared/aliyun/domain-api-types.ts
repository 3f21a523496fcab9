import type { Dispatcher } from '../http/undici-core.ts'
import type { Metrics } from '../metrics.ts'
import type { UpstreamLimiter } from '../upstream-rate/shared-limiter.ts'
import type { ClockSkewTracker } from './clock-skew.ts'
import type { DomainApiSettings } from './domain-api-settings.ts'
import type { CallKind } from './upstream-error.ts'

/** The actions this gateway calls, and whether each changes a domain. */
export const DomainActions = {
  SaveSingleTaskForAddingDSRecord: 'write',
  SaveSingleTaskForModifyingDSRecord: 'write',
  SaveSingleTaskForDeletingDSRecord: 'write',
  SaveSingleTaskForSynchronizingDSRecord: 'write',
  SaveSingleTaskForSynchronizingDnsHost: 'write',
  SaveBatchTaskForModifyingDomainDns: 'write',
  QueryTaskDetailList: 'read',
  QueryTaskList: 'read',
  QueryDSRecord: 'read',
  QueryDnsHost: 'read',
  QueryDomainByDomainName: 'read',
} as const satisfies Record<string, CallKind>
export type DomainAction = keyof typeof DomainActions
export type SubmitAction = {
  [A in DomainAction]: (typeof DomainActions)[A] extends 'write' ? A : never
}[DomainAction]

export interface CommonOptions {
  /** Language of error messages: `en` (default) or `zh`. */
  readonly lang?: 'en' | 'zh'
  readonly userClientIp?: string
}

/** Options of the `Save*` calls. */
export interface WriteOptions extends CommonOptions {
  /**
   * Epoch ms. No attempt is signed, or put on the wire, after this instant: checked before signing
   * and again immediately before undici writes the request to a socket. A refused attempt fails
   * with `SendWindowClosed` and is proven unsent.
   */
  readonly sendBy?: number | undefined
}

export interface DsRecordInput extends WriteOptions {
  readonly domainName: string
  readonly keyTag: number
  readonly algorithm: number
  readonly digestType: number
  readonly digest: string
}

export interface QueryTaskDetailListInput extends CommonOptions {
  readonly taskNo: string
  readonly pageNum?: number
  /** At most 1000. */
  readonly pageSize?: number
  /** 0 waiting, 1 executing, 2 succeeded, 3 failed. */
  readonly taskStatus?: 0 | 1 | 2 | 3
  readonly domainName?: string
  readonly instanceId?: string
}

export interface QueryTaskListInput extends CommonOptions {
  /** Epoch milliseconds. */
  readonly beginCreateTime?: number
  readonly endCreateTime?: number
  readonly pageNum?: number
  readonly pageSize?: number
}

/** Collaborators a client needs; all but `config` have production defaults. */
export interface DomainApiClientDeps {
  readonly config: DomainApiSettings
  readonly dispatcher?: Dispatcher
  readonly now?: () => number
  readonly nonce?: () => string
  readonly random?: () => number
  readonly sleep?: (ms: number) => Promise<void>
  readonly clockSkew?: ClockSkewTracker
  /** Counts every attempt (`UpstreamCalls`) and every failed one (`UpstreamErrors`). */
  readonly metrics?: Metrics
  /** The account-wide rate shared by every worker: asked before each attempt. */
  readonly limiter?: UpstreamLimiter | undefined
}
