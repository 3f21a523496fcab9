import type { DsRecord } from '../dns/dnskey.ts'

/**
 * Whether a change leaves its domain resolvable for a validating resolver: the verdict of a
 * pre-flight check, from what each server of the zone serves (the record of it, kept on tasks,
 * changes and their events; judged in preflight/safety.ts, asked in preflight/check-change.ts).
 * - `safe`: after the change, every server's DNSKEY RRset is validated by some DS of the set —
 *   a DS matching a served key whose RRSIG over the RRset verifies (RFC 4035 §5.2). A DS for a
 *   key not yet served beside one that validates (a pre-publish) is safe.
 * - `insecure`: after the change the registry holds no DS: the zone is (or goes) unsigned at the
 *   parent. Resolvers treat it as insecure, not bogus; nothing to validate.
 * - `unsafe`: some server's DNSKEY RRset is validated by no DS of the set: a validating resolver
 *   asking that server answers SERVFAIL for the whole zone.
 * - `unverified`: some server could not be asked (no answer, refused, lame) or serves a key the
 *   gateway cannot check, and no server is known to break.
 */
export type Verdict = 'safe' | 'insecure' | 'unsafe' | 'unverified'

export interface ServedKey {
  readonly keyTag: number
  readonly algorithm: number
  /** The Secure Entry Point flag (a KSK). */
  readonly sep: boolean
}

/** What one address of one name server answered, over one transport (or both, when alike). */
export interface ServerEvidence {
  /** The name server's host name, or the zone for servers set by `DNS_SERVER_OVERRIDES`. */
  readonly nameServer: string
  /** `address:port`. */
  readonly address: string
  readonly transport: 'tcp' | 'udp' | 'tcp+udp'
  /** `validates`: a DS of the set validates its DNSKEY RRset. */
  readonly outcome: 'validates' | 'not-validated' | 'unchecked' | 'unanswered'
  readonly keys: readonly ServedKey[]
  /** Whether its DNSKEY RRset carries any RRSIG. */
  readonly signed: boolean
  /** The key tag of the DS-matched key whose signature verified. */
  readonly validatedBy?: number | undefined
  readonly problem?: string | undefined
}

export interface DomainSafety {
  readonly domain: string
  readonly verdict: Verdict
  readonly reason: string
  /** The DS set the registry holds after the change. */
  readonly dsAfter: readonly DsRecord[]
  /** What the servers asked serve: the zone's, or for a name-server change the new ones. */
  readonly servers: readonly ServerEvidence[]
}

/** The pre-flight verdict of a change, as answered, recorded on its task or change and its events. */
export interface ChangeSafety {
  readonly verdict: Verdict
  readonly reason: string
  readonly checkedAt: string
  readonly domains: readonly DomainSafety[]
  /** The caller sent `force`: the change was to be carried out whatever the verdict. */
  readonly forced?: boolean | undefined
}
