import dnsPacket, { type Answer, type Packet } from 'dns-packet'
import { type DsRecord, dnskeyRdata } from '#shared/dns/dnskey.ts'
import { dsRdataOf } from '#shared/dns/dnssec-records.ts'
import { type RunningDnsServer, serveDns } from './dns-server.ts'
import { ZoneSigningKey } from './zone-signing.ts'

/**
 * The parent zone, as the emulator plays it: over DNS (UDP and TCP, loopback), the DS records
 * its registry tasks have set, each set published a while after its task settled, with a TTL —
 * so a DNSSEC scanner can check that the parent really serves a new DS, and wait out its TTL,
 * without the internet. It is signed as a TLD is (one ECDSA key for every TLD it plays: a
 * DNSKEY RRset at each TLD's apex, an RRSIG over each DS RRset), so a chain of trust can start
 * at a TLD (`trustAnchor`). Any other question about a domain is a referral to the name servers
 * the registry holds for it (not authoritative, NS records in the authority section).
 */
export interface ParentZoneOptions {
  /** How long after a task settles its DS set is served. */
  readonly publishDelayMs: number
  readonly dsTtlSeconds: number
  readonly now: () => number
  /** Called before each answer (the emulator settles its due tasks then). */
  readonly beforeServe?: () => void
  /** The name servers the registry holds for a domain (the delegation's NS set). */
  readonly nameServersOf?: (domain: string) => readonly string[]
}

/** The TLDs a local stack points at the emulator's parent zone. */
export const LOCAL_TLDS = ['test', 'example', 'com', 'net', 'org', 'local'] as const

/** Published DS sets and delegations per domain, in the order they were set. */
export class DsPublication {
  readonly #history = new Map<string, { at: number; records: readonly DsRecord[] }[]>()
  readonly #delegations = new Map<
    string,
    { at: number; nameServers: readonly string[]; before: readonly string[] }[]
  >()

  /** The key every TLD of this parent zone is signed with. */
  readonly signingKey = new ZoneSigningKey()

  constructor(private readonly options: ParentZoneOptions) {}

  /**
   * The delegation's NS set the parent serves now: the name servers a task set, once its publish
   * delay has passed (before that, the set from before the task); for a domain no task moved,
   * the registry's.
   */
  nameServersOf(domain: string): readonly string[] {
    this.options.beforeServe?.()
    const registry = this.options.nameServersOf?.(domain) ?? []
    if (registry.length === 0) return registry
    const list = this.#delegations.get(domain.toLowerCase().replace(/\.$/, ''))
    if (!list) return registry
    const now = this.options.now()
    let current: readonly string[] | undefined
    for (const entry of list) if (entry.at <= now) current = entry.nameServers
    return current ?? list[0]?.before ?? registry
  }

  /** Records a domain's new name servers as the registry holds them from `at` on. */
  recordNameServers(
    domain: string,
    nameServers: readonly string[],
    at: number,
    before: readonly string[],
  ): void {
    const list = this.#delegations.get(domain) ?? []
    list.push({ at: at + this.options.publishDelayMs, nameServers: [...nameServers], before })
    this.#delegations.set(domain, list)
  }

  now(): number {
    return this.options.now()
  }

  /** The trust anchors of the TLDs this zone plays, as `DNSSEC_TRUST_ANCHORS` takes them. */
  trustAnchors(tlds: readonly string[] = LOCAL_TLDS): string {
    return JSON.stringify(tlds.map((tld) => this.signingKey.trustAnchor(tld)))
  }

  /** Records a domain's DS set as the registry holds it from `at` on. */
  record(domain: string, records: readonly DsRecord[], at: number): void {
    const list = this.#history.get(domain) ?? []
    list.push({ at: at + this.options.publishDelayMs, records: [...records] })
    this.#history.set(domain, list)
  }

  /** The DS set the parent serves now, or undefined for a domain it never delegated with DS. */
  served(domain: string): readonly DsRecord[] | undefined {
    this.options.beforeServe?.()
    const now = this.options.now()
    const list = this.#history.get(domain.toLowerCase().replace(/\.$/, ''))
    if (!list) return undefined
    let current: readonly DsRecord[] | undefined
    for (const entry of list) if (entry.at <= now) current = entry.records
    return current
  }

  knows(domain: string): boolean {
    this.options.beforeServe?.()
    return this.#history.has(domain.toLowerCase().replace(/\.$/, ''))
  }

  get ttlSeconds(): number {
    return this.options.dsTtlSeconds
  }
}

function answerTo(request: Packet, zone: DsPublication): Packet {
  const question = request.questions?.[0]
  const base = {
    type: 'response' as const,
    id: request.id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    questions: request.questions,
  }
  if (!question) return { ...base, answers: [] }
  const name = question.name.toLowerCase().replace(/\.$/, '')
  const labels = name.split('.')
  const tld = labels.at(-1) as string
  const nowSeconds = Math.floor(zone.now() / 1000)
  const ttl = zone.ttlSeconds
  if (labels.length === 1) {
    // The TLD's apex: its DNSKEY RRset, signed by itself.
    const answers: Answer[] = []
    if (question.type === 'DNSKEY') {
      const key = zone.signingKey.dnskey
      answers.push(
        {
          type: 'DNSKEY',
          name,
          ttl,
          class: 'IN',
          data: { flags: key.flags, algorithm: key.algorithm, key: key.publicKey },
        } as Answer,
        zone.signingKey.sign(
          tld,
          { name, type: 'DNSKEY', typeNumber: 48 },
          [dnskeyRdata(key)],
          ttl,
          nowSeconds,
        ),
      )
    }
    return { ...base, answers }
  }
  if (question.type === 'DS') {
    const records = zone.served(name) ?? []
    const answers: Answer[] = records.map((record) => ({
      type: 'DS',
      name,
      ttl,
      class: 'IN',
      data: {
        keyTag: record.keyTag,
        algorithm: record.algorithm,
        digestType: record.digestType,
        digest: Buffer.from(record.digest, 'hex'),
      },
    }))
    if (records.length > 0) {
      answers.push(
        zone.signingKey.sign(
          tld,
          { name, type: 'DS', typeNumber: 43 },
          records.map(dsRdataOf),
          ttl,
          nowSeconds,
        ),
      )
    }
    // The response code sits in the flags' low bits: 3 is NXDOMAIN.
    const rcode = zone.knows(name) ? 0 : 3
    return { ...base, flags: base.flags | rcode, answers }
  }
  // Anything else about a domain: a referral to the name servers the registry holds for it.
  const domain = labels.slice(-2).join('.')
  const nameServers = zone.nameServersOf(domain)
  if (nameServers.length === 0) {
    const rcode = zone.knows(name) ? 0 : 3
    return { ...base, flags: base.flags | rcode, answers: [] }
  }
  return {
    ...base,
    flags: 0,
    answers: [],
    authorities: nameServers.map((host) => ({
      type: 'NS',
      name: domain,
      ttl,
      class: 'IN',
      data: host,
    })),
  }
}

export type RunningParentZone = RunningDnsServer

/** Serves the zone on UDP and TCP on the same loopback port (0: any free port). */
export function startParentZone(
  zone: DsPublication,
  options: { readonly port?: number; readonly host?: string } = {},
): Promise<RunningParentZone> {
  return serveDns((request) => answerTo(request, zone), options)
}
