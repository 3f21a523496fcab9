import type { DsRecord } from '../dns/dnskey.ts'
import type { ChildKey, ServerView } from '../dns/scan-zone.ts'
import type { PerDomainStore } from '../ports/per-domain-store.ts'
import type { RolloverPhase } from './rollover.ts'

/** A domain enrolled in CDS/CDNSKEY-driven DS automation, and where its rollover stands. */
export interface DnssecState {
  readonly domain: string
  readonly tenant: string
  readonly keyId: string
  readonly callbackUrl?: string | undefined
  readonly mode: 'cds' | 'off'
  /** Accept an unsigned delegation's first CDS after consistent scans over TCP. */
  readonly bootstrap: boolean
  /** Bootstrap only through an authenticated RFC 9615 signal, never by repeated scans. */
  readonly requireSignal?: boolean | undefined
  /** Act on the delete signal (remove every DS). */
  readonly allowDelete: boolean
  readonly phase: RolloverPhase
  readonly waitReason?: string | undefined
  /** Since when the current phase has lasted (for the stuck limit). */
  readonly phaseSince?: string | undefined
  /** When the parent was first seen serving the desired DS set. */
  readonly publishedSince?: number | undefined
  readonly stuckReported?: boolean | undefined
  /** A failed scan was reported; the next success clears it. */
  readonly failureReported?: boolean | undefined
  /** Consecutive identical bootstrap scans over TCP. */
  readonly bootstrapScans?: number | undefined
  readonly bootstrapDigest?: string | undefined
  readonly lastScan?:
    | {
        readonly at: string
        readonly ok: boolean
        readonly reason?: string | undefined
        readonly servers: readonly ServerView[]
        readonly keys: readonly ChildKey[]
        readonly cds: readonly DsRecord[] | 'delete'
        readonly registry: readonly DsRecord[]
        readonly parent?:
          | { readonly records: readonly DsRecord[]; readonly ttlSeconds: number }
          | undefined
        /** While bootstrapping: the RFC 9615 signals' verdict. */
        readonly signal?:
          | {
              readonly ok: boolean
              readonly reason?: string | undefined
              readonly names?: readonly string[] | undefined
            }
          | undefined
      }
    | undefined
  readonly changeId?: string | undefined
  readonly version: number
}

export type DnssecStateStore = PerDomainStore<DnssecState>
