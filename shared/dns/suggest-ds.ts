import type { DnsServer } from './dns-client.ts'
import { type Dnskey, type DsRecord, dsFromDnskey, keyTagOf } from './dnskey.ts'
import {
  CDNSKEY,
  CDS,
  cdnskeyOf,
  cdsOf,
  dnskeyOf,
  keysMatchingDs,
  rawOf,
} from './dnssec-records.ts'
import {
  askKeySets,
  dnskeySetKey,
  type KeySetAnswers,
  type KeySetQuery,
  serverLabel,
  signedByZone,
  unsignedDnskeyAt,
} from './zone-key-sets.ts'

/**
 * The DS records a zone asks for, so nobody copies digests by hand (read-only): what its CDS
 * says, else DS records computed from its CDNSKEY, else from the key-signing keys it serves (SEP
 * flag, SHA-256). Every server is asked; they must serve the same DNSKEY RRset, self-signed by
 * one of its KSKs, and a CDS must point at served keys.
 */

export interface Suggestion {
  readonly domain: string
  /** Where the records come from; `none`: nothing to suggest (`reason` says why). */
  readonly source: 'cds' | 'cdnskey' | 'dnskey' | 'none'
  readonly records: readonly DsRecord[]
  /** The keys the zone serves. */
  readonly keys: readonly { keyTag: number; algorithm: number; sep: boolean }[]
  /** The servers asked (`host:port`). */
  readonly servers: readonly string[]
  readonly reason?: string | undefined
}

export interface SuggestDeps {
  readonly serversFor: (zone: string) => Promise<readonly DnsServer[]>
  readonly query: KeySetQuery
  readonly now: () => number
}

export async function suggestDs(deps: SuggestDeps, domain: string): Promise<Suggestion> {
  const none = (reason: string, extra: Partial<Suggestion> = {}): Suggestion => ({
    domain,
    source: 'none',
    records: [],
    keys: [],
    servers: [],
    reason,
    ...extra,
  })
  let servers: readonly DnsServer[]
  try {
    servers = await deps.serversFor(domain)
  } catch (error) {
    return none(`the servers of ${domain} could not be found: ${(error as Error).message}`)
  }
  const labels = servers.map(serverLabel)
  const answers: KeySetAnswers[] = []
  for (const server of servers) {
    try {
      const answer = await askKeySets(deps.query, server, domain)
      if (!answer.dnskey.authoritative || answer.dnskey.rcode !== 'NOERROR') {
        return none(`${answer.server} does not answer for ${domain} (${answer.dnskey.rcode})`, {
          servers: labels,
        })
      }
      answers.push(answer)
    } catch (error) {
      return none(`${serverLabel(server)}: ${(error as Error).message}`, { servers: labels })
    }
  }
  const first = answers[0]
  if (!first) return none(`no server of ${domain} is known`)
  const keys: Dnskey[] = first.dnskey.records.map(dnskeyOf)
  const shown = keys
    .map((key) => ({ keyTag: keyTagOf(key), algorithm: key.algorithm, sep: (key.flags & 1) === 1 }))
    .sort((a, b) => a.keyTag - b.keyTag)
  const base = { servers: labels, keys: shown }
  if (answers.some((answer) => dnskeySetKey(answer.dnskey) !== dnskeySetKey(first.dnskey))) {
    return none('the servers serve different DNSKEY RRsets', base)
  }
  if (keys.length === 0) return none(`${domain} is served unsigned (no DNSKEY)`, base)
  const ksks = keys.filter((key) => (key.flags & 1) === 1)
  const nowSeconds = Math.floor(deps.now() / 1000)
  const unsigned = unsignedDnskeyAt(
    domain,
    answers,
    keys,
    ksks.length > 0 ? ksks : keys,
    nowSeconds,
  )
  if (unsigned) return none('the DNSKEY RRset is not validly signed by a key of the zone', base)
  const cds = first.cds.records.map((record) => cdsOf(rawOf(record)))
  const cdsKeys = keysMatchingDs(domain, keys, cds)
  if (cds.length > 0 && !cds.some((ds) => ds.algorithm === 0)) {
    if (signedByZone(domain, CDS, first.cds, keys, nowSeconds) && cdsKeys.length > 0) {
      return {
        domain,
        source: 'cds',
        records: cds.map((ds) => ({ ...ds, digest: ds.digest.toLowerCase() })),
        ...base,
      }
    }
  }
  const cdnskeys = first.cdnskey.records.map((record) => cdnskeyOf(rawOf(record)))
  if (cdnskeys.length > 0 && !cdnskeys.some((key) => key.algorithm === 0)) {
    if (signedByZone(domain, CDNSKEY, first.cdnskey, keys, nowSeconds)) {
      return {
        domain,
        source: 'cdnskey',
        records: cdnskeys.map((key) => dsFromDnskey(domain, key, 2)),
        ...base,
      }
    }
  }
  const entry = ksks.length > 0 ? ksks : keys
  return {
    domain,
    source: 'dnskey',
    records: entry.map((key) => dsFromDnskey(domain, key, 2)),
    ...base,
  }
}
