import type { DnsAnswer } from '../dns/dns-client.ts'
import type { DsRecord } from '../dns/dnskey.ts'
import { dnskeyRdata, keyTagOf } from '../dns/dnskey.ts'
import { DNSKEY, dnskeyOf, keysMatchingDs, signedByOneOf } from '../dns/dnssec-records.ts'
import { SUPPORTED_ALGORITHMS } from '../dns/rrsig.ts'
import type {
  ChangeSafety,
  DomainSafety,
  ServedKey,
  ServerEvidence,
  Verdict,
} from '../tasks/change-safety.ts'

/** One server's answer to the apex DNSKEY question, judged against the DS set after the change. */
export function judgeAnswer(
  zone: string,
  dsSet: readonly DsRecord[],
  answer: DnsAnswer,
  nowSeconds: number,
): Pick<ServerEvidence, 'outcome' | 'keys' | 'signed' | 'validatedBy' | 'problem'> {
  const none = { keys: [], signed: false }
  if (answer.rcode !== 'NOERROR') {
    return { ...none, outcome: 'unanswered', problem: `answered ${answer.rcode}` }
  }
  if (!answer.authoritative) {
    return {
      ...none,
      outcome: 'unanswered',
      problem: answer.referral
        ? `not authoritative for ${zone}: it refers to ${answer.referral.nameServers.join(', ') || 'other servers'} (lame)`
        : `not authoritative for ${zone} (lame)`,
    }
  }
  const dnskeys = answer.records.map(dnskeyOf)
  // In a stable order: servers rotate an RRset's records from one answer to the next.
  const keys = dnskeys
    .map((key) => ({ keyTag: keyTagOf(key), algorithm: key.algorithm, sep: (key.flags & 1) === 1 }))
    .sort((a, b) => a.keyTag - b.keyTag || a.algorithm - b.algorithm)
  const signed = answer.signatures.length > 0
  if (dnskeys.length === 0) {
    return {
      keys,
      signed,
      outcome: 'not-validated',
      problem: 'serves the zone unsigned (no DNSKEY)',
    }
  }
  const records = dnskeys.map((key) => ({ name: zone, type: DNSKEY, rdata: dnskeyRdata(key) }))
  const anchors = keysMatchingDs(zone, dnskeys, dsSet)
  const validatedBy = signedByOneOf(zone, DNSKEY, records, answer.signatures, anchors, nowSeconds)
  if (validatedBy !== undefined) return { keys, signed, outcome: 'validates', validatedBy }
  // A DS the gateway cannot check (GOST, an algorithm node:crypto lacks) for a served key: no
  // verdict either way.
  const served = new Set(keys.map((key) => `${key.keyTag}/${key.algorithm}`))
  const uncheckable = dsSet.filter(
    (ds) =>
      served.has(`${ds.keyTag}/${ds.algorithm}`) &&
      (![1, 2, 4].includes(ds.digestType) || !SUPPORTED_ALGORITHMS.has(ds.algorithm)),
  )
  if (uncheckable.length > 0) {
    return {
      keys,
      signed,
      outcome: 'unchecked',
      problem: `DS ${uncheckable.map((ds) => `${ds.keyTag} (algorithm ${ds.algorithm}, digest type ${ds.digestType})`).join(', ')} cannot be checked here`,
    }
  }
  return {
    keys,
    signed,
    outcome: 'not-validated',
    problem:
      anchors.length === 0
        ? 'no DS of the set matches a key it serves'
        : signed
          ? `no valid signature over its DNSKEY RRset by key ${anchors.map(keyTagOf).join(', ')}, which a DS matches`
          : 'its DNSKEY RRset is not signed',
  }
}

const describeKeys = (keys: readonly ServedKey[]) =>
  keys.length === 0
    ? 'no DNSKEY'
    : keys.map((key) => `${key.keyTag} (alg ${key.algorithm}${key.sep ? ', KSK' : ''})`).join(', ')

const describeDs = (set: readonly DsRecord[]) =>
  set.length === 0
    ? 'none'
    : set.map((ds) => `${ds.keyTag}/${ds.algorithm}/${ds.digestType}`).join(', ')

/** A domain's verdict from the evidence of every server asked (none: the servers were not found). */
export function judgeDomain(
  domain: string,
  dsSet: readonly DsRecord[],
  servers: readonly ServerEvidence[],
  lookupProblem?: string,
): DomainSafety {
  const base = { domain, dsAfter: dsSet, servers }
  if (dsSet.length === 0) {
    return {
      ...base,
      verdict: 'insecure',
      reason: `after this change the registry holds no DS for ${domain}: validating resolvers treat the zone as unsigned (insecure), not broken`,
    }
  }
  if (lookupProblem !== undefined || servers.length === 0) {
    return {
      ...base,
      verdict: 'unverified',
      reason: `the servers of ${domain} could not be asked: ${lookupProblem ?? 'none found'}`,
    }
  }
  const broken = servers.filter((server) => server.outcome === 'not-validated')
  if (broken.length > 0) {
    const shown = broken
      .map(
        (server) =>
          `${server.nameServer} (${server.address} over ${server.transport}) serves ${describeKeys(server.keys)}${server.signed ? ', signed' : ', unsigned'}: ${server.problem}`,
      )
      .join('; ')
    return {
      ...base,
      verdict: 'unsafe',
      reason: `after this change the DS set of ${domain} would be ${describeDs(dsSet)}, and it validates the DNSKEY RRset of no key some servers serve — ${shown}. Validating resolvers would answer SERVFAIL for the whole zone.`,
    }
  }
  const unasked = servers.filter((server) => server.outcome !== 'validates')
  if (unasked.length > 0) {
    return {
      ...base,
      verdict: 'unverified',
      reason: `not every server of ${domain} could be checked: ${unasked.map((server) => `${server.nameServer} (${server.address}) ${server.problem}`).join('; ')}`,
    }
  }
  return {
    ...base,
    verdict: 'safe',
    reason: `after this change DS ${describeDs(dsSet)} validates the DNSKEY RRset every server of ${domain} serves (${servers.length} checked)`,
  }
}

const SEVERITY: Record<Verdict, number> = { safe: 0, insecure: 1, unverified: 2, unsafe: 3 }

/** A change's verdict: its worst domain's. */
export function judgeChange(domains: readonly DomainSafety[], checkedAt: number): ChangeSafety {
  const worst = [...domains].sort((a, b) => SEVERITY[b.verdict] - SEVERITY[a.verdict])[0]
  return {
    verdict: worst?.verdict ?? 'safe',
    reason:
      domains.length === 1 || worst === undefined
        ? (worst?.reason ?? 'nothing to check')
        : `${domains.filter((domain) => domain.verdict === worst.verdict).length} of ${domains.length} domains are ${worst.verdict}; first: ${worst.reason}`,
    checkedAt: new Date(checkedAt).toISOString(),
    domains,
  }
}
