import type { DnsServer } from './dns-client.ts'
import { type Dnskey, type DsRecord, dsFromDnskey, keyTagOf } from './dnskey.ts'
import {
  CDNSKEY,
  CDS,
  cdnskeyOf,
  cdsOf,
  DNSKEY,
  dnskeyOf,
  dsKey,
  keysMatchingDs,
  rawOf,
  rdataSet,
  signedByOneOf,
} from './dnssec-records.ts'
import {
  askKeySets,
  dnskeyRecords,
  dnskeySetKey,
  type KeySetAnswers,
  type KeySetQuery,
  rrsetKey,
  serverLabel,
  signedByZone,
  unsignedDnskeyAt,
} from './zone-key-sets.ts'

/**
 * One scan of a child zone for CDS/CDNSKEY (RFC 7344, RFC 8078 §3): every authoritative server is
 * asked directly for DNSKEY, CDS and CDNSKEY; all must agree; the DNSKEY RRset must be signed by a
 * key whose DS the registry holds now, and the CDS/CDNSKEY RRsets by a key of that DNSKEY set.
 * Unsigned delegations (no DS at the registry) are accepted only when bootstrapping is allowed.
 */

export interface ServerView {
  readonly server: string
  readonly dnskeys: readonly number[]
  readonly cds: readonly string[]
  readonly cdnskey: readonly number[]
  readonly error?: string | undefined
}

export interface ChildKey {
  readonly keyTag: number
  readonly algorithm: number
  readonly flags: number
  /** The Secure Entry Point flag (a KSK). */
  readonly sep: boolean
}

export type ScanOutcome =
  | {
      readonly ok: true
      readonly servers: readonly ServerView[]
      readonly keys: readonly ChildKey[]
      /**
       * What the parent's DS set should be, from CDS (or CDNSKEY); `delete`: remove every DS;
       * `none`: the zone publishes neither, so it asks for no change (RFC 7344 §4.1).
       */
      readonly desired: readonly DsRecord[] | 'delete' | 'none'
      /** The key of the current DS set that validated the DNSKEY RRset (absent when bootstrapping). */
      readonly trustedBy?: number | undefined
      /** The CDS and CDNSKEY RRsets as served (sorted hex RDATA), to compare with RFC 9615 signals. */
      readonly apex: { readonly cds: readonly string[]; readonly cdnskey: readonly string[] }
    }
  | {
      readonly ok: false
      readonly reason: string
      readonly servers: readonly ServerView[]
      readonly keys?: readonly ChildKey[] | undefined
    }

interface ServerAnswers extends KeySetAnswers {
  readonly view: ServerView
}

export async function scanZone(
  zone: string,
  servers: readonly DnsServer[],
  query: KeySetQuery,
  registryDs: readonly DsRecord[],
  options: { readonly nowSeconds: number; readonly bootstrap: boolean },
): Promise<ScanOutcome> {
  if (servers.length === 0) return { ok: false, reason: 'no authoritative servers', servers: [] }
  const answers: ServerAnswers[] = []
  const views: ServerView[] = []
  for (const server of servers) {
    const label = serverLabel(server)
    try {
      const sets = await askKeySets(query, server, zone)
      const { dnskey, cds, cdnskey } = sets
      const view: ServerView = {
        server: label,
        dnskeys: dnskey.records.map((record) => keyTagOf(dnskeyOf(record))).sort((a, b) => a - b),
        cds: cds.records.map((record) => dsKey(cdsOf(rawOf(record)))).sort(),
        cdnskey: cdnskey.records.map((record) => keyTagOf(cdnskeyOf(rawOf(record)))).sort(),
      }
      views.push(view)
      answers.push({ ...sets, view })
    } catch (error) {
      views.push({
        server: label,
        dnskeys: [],
        cds: [],
        cdnskey: [],
        error: (error as Error).message,
      })
    }
  }
  if (answers.length < servers.length) {
    return { ok: false, reason: 'a server did not answer', servers: views }
  }
  const first = answers[0] as ServerAnswers
  // Every server must serve the same DNSKEY, CDS and CDNSKEY RRsets (a multi-signer zone too:
  // RFC 8901 model 2 providers each serve every provider's keys, and one CDS set).
  const contents: readonly [string, (answers: ServerAnswers) => string][] = [
    ['DNSKEY', (a) => dnskeySetKey(a.dnskey)],
    ['CDS', (a) => rrsetKey(a.cds.records)],
    ['CDNSKEY', (a) => rrsetKey(a.cdnskey.records)],
  ]
  for (const [type, content] of contents) {
    const differing = answers.filter((other) => content(other) !== content(first))
    if (differing.length > 0) {
      return {
        ok: false,
        reason: `the servers disagree: ${differing.map((a) => a.view.server).join(', ')} serve another ${type} RRset than ${first.view.server}`,
        servers: views,
      }
    }
  }

  const keys = first.dnskey.records.map(dnskeyOf)
  const childKeys = keys.map((key) => ({
    keyTag: keyTagOf(key),
    algorithm: key.algorithm,
    flags: key.flags,
    sep: (key.flags & 1) === 1,
  }))
  const fail = (reason: string): ScanOutcome => ({
    ok: false,
    reason,
    servers: views,
    keys: childKeys,
  })
  const matching = (records: readonly DsRecord[]) => keysMatchingDs(zone, keys, records)
  /** The server whose own signature over the DNSKEY RRset no key of `signers` made, if any. */
  const unsignedAt = (signers: readonly Dnskey[]) =>
    unsignedDnskeyAt(zone, answers, keys, signers, options.nowSeconds)
  let trustedBy: number | undefined
  if (registryDs.length > 0) {
    // The DNSKEY RRset must be signed by a key whose DS is in the registry's set now.
    const anchors = matching(registryDs)
    if (anchors.length === 0) return fail('no DNSKEY of the zone matches a DS the registry holds')
    const unsigned = unsignedAt(anchors)
    if (unsigned) {
      return fail(
        `the DNSKEY RRset${answers.length > 1 ? ` served by ${unsigned.view.server}` : ''} is not validly signed by a key whose DS the registry holds`,
      )
    }
    trustedBy = signedByOneOf(
      zone,
      DNSKEY,
      dnskeyRecords(zone, keys),
      first.dnskey.signatures,
      anchors,
      options.nowSeconds,
    )
  } else if (!options.bootstrap) {
    return fail('the delegation is unsigned and bootstrapping is not enabled for this domain')
  } else if (unsignedAt(keys)) {
    return fail('the DNSKEY RRset is not self-signed')
  }

  const cdsRecords = first.cds.records.map((record) => cdsOf(rawOf(record)))
  const cdnskeys = first.cdnskey.records.map((record) => cdnskeyOf(rawOf(record)))
  const apex = {
    cds: rdataSet(first.cds.records.map(rawOf)),
    cdnskey: rdataSet(first.cdnskey.records.map(rawOf)),
  }
  // No CDS and no CDNSKEY: the child asks for nothing (Knot publishes them only while submitting).
  if (cdsRecords.length === 0 && cdnskeys.length === 0) {
    return { ok: true, servers: views, keys: childKeys, desired: 'none', trustedBy, apex }
  }
  for (const answer of answers) {
    for (const [type, rrset] of [
      [CDS, answer.cds],
      [CDNSKEY, answer.cdnskey],
    ] as const) {
      if (rrset.records.length === 0) continue
      if (!signedByZone(zone, type, rrset, keys, options.nowSeconds)) {
        return fail(
          `the ${type === CDS ? 'CDS' : 'CDNSKEY'} RRset${answers.length > 1 ? ` served by ${answer.view.server}` : ''} is not validly signed by a key of the zone`,
        )
      }
    }
  }
  // The delete signal (RFC 8078 §4): CDS 0 0 0 00 / CDNSKEY 0 3 0 AA==.
  const deleteCds = cdsRecords.some((ds) => ds.keyTag === 0 && ds.algorithm === 0)
  const deleteCdnskey = cdnskeys.some((key) => key.algorithm === 0)
  if (deleteCds || deleteCdnskey) {
    if ((cdsRecords.length > 0 && !deleteCds) || (cdnskeys.length > 0 && !deleteCdnskey)) {
      return fail('CDS and CDNSKEY disagree about deleting the DS set')
    }
    return { ok: true, servers: views, keys: childKeys, desired: 'delete', trustedBy, apex }
  }
  const desired =
    cdsRecords.length > 0
      ? cdsRecords.map((ds) => ({ ...ds, digest: ds.digest.toLowerCase() }))
      : cdnskeys.map((key) => dsFromDnskey(zone, key, 2))
  if (cdsRecords.length > 0 && cdnskeys.length > 0) {
    // Both published: they must name the same keys.
    const fromCds = new Set(cdsRecords.map((ds) => ds.keyTag))
    const fromCdnskey = new Set(cdnskeys.map((key) => keyTagOf(key)))
    if (fromCds.size !== fromCdnskey.size || [...fromCds].some((tag) => !fromCdnskey.has(tag))) {
      return fail('CDS and CDNSKEY name different keys')
    }
  }
  // The DS set asked for must validate every server's DNSKEY RRset (each provider's own
  // signature, in a multi-signer zone), or the zone turns bogus wherever it does not.
  const unsigned = unsignedAt(matching(desired))
  if (unsigned) {
    return fail(
      `the DNSKEY RRset${answers.length > 1 ? ` served by ${unsigned.view.server}` : ''} is not signed by a key the CDS or CDNSKEY names`,
    )
  }
  if (registryDs.length === 0) {
    // The registry adds one DS per task, so a first set reaches the parent one record at a time:
    // each record alone must validate every server (not so for two providers' own KSKs).
    for (const ds of desired) {
      const alone = unsignedAt(matching([ds]))
      if (alone) {
        return fail(
          `a first DS set is published one record at a time, and DS ${ds.keyTag} alone leaves the DNSKEY RRset served by ${alone.view.server} without a validating DS: secure the zone with one provider's servers, then add the other's keys and DS (RFC 8901 §8)`,
        )
      }
    }
  }
  return { ok: true, servers: views, keys: childKeys, desired, trustedBy, apex }
}
