import { queryServer } from '#shared/dns/dns-client.ts'
import { type DsRecord, dsFromDnskey, keyTagOf, parseDnskey } from '#shared/dns/dnskey.ts'
import { dnskeyOf } from '#shared/dns/dnssec-records.ts'
import { BindZone, type SignatureValidity, type ZoneKey } from './bind.ts'
import { PolicyServer } from './policy-server.ts'

/** The recorded multi-signer zone (`npm run fixtures:dnssec`) and its steps, in order. */
export const MULTI_SIGNER_ZONE = 'multi-signer-example.com'
export const MULTI_SIGNER_STATES = [
  'agreed',
  'knot-rolled',
  'rolled',
  'knot-retired',
  'retired',
] as const
export type MultiSignerState = (typeof MULTI_SIGNER_STATES)[number]

/**
 * A multi-signer zone (RFC 8901 model 2) on two real servers: BIND (keys from `dnssec-keygen`,
 * signed by `dnssec-signzone`) and Knot (its own keys from `keymgr`, the policy of the operator's
 * guide). Each serves the other's keys; Knot publishes CDS/CDNSKEY for its own KSKs, and this
 * class plays the multi-signer coordinator that copies keys and CDS between them.
 */
export class MultiSignerZone {
  readonly bind: BindZone
  readonly knot: PolicyServer
  readonly kskA: ZoneKey
  readonly zskA: ZoneKey
  #firstKnotKsk = ''

  constructor(
    readonly zone: string,
    ports: { readonly bind: number; readonly knot: number; readonly parent: number },
    options: {
      readonly validity?: SignatureValidity
      readonly adjustKnot?: (configuration: string) => string
    } = {},
  ) {
    this.bind = new BindZone(zone, ports.bind, options.validity)
    this.knot = new PolicyServer('knot-multi-signer', zone, ports.knot, ports.parent)
    if (options.adjustKnot) this.knot.adjustConfiguration = options.adjustKnot
    this.kskA = this.bind.newKey(true)
    this.zskA = this.bind.newKey(false)
  }

  dsOf(dnskey: string): DsRecord {
    return dsFromDnskey(this.zone, parseDnskey(dnskey), 2)
  }

  /** The other provider's part of a zone file: its DNSKEYs, and CDS and CDNSKEY for its KSKs. */
  #linesFor(keys: readonly string[], withKeys = true): string[] {
    const zone = this.zone
    return [
      ...(withKeys ? keys.map((text) => `${zone}. 2 IN DNSKEY ${text}`) : []),
      ...keys
        .filter((text) => text.startsWith('257 '))
        .flatMap((text) => {
          const ds = this.dsOf(text)
          return [
            `${zone}. 2 IN CDS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest.toUpperCase()}`,
            `${zone}. 2 IN CDNSKEY ${text}`,
          ]
        }),
    ]
  }

  /** Knot's own keys as it serves them (DNSKEY RDATA in presentation form). */
  async knotKeys(): Promise<string[]> {
    const answer = await queryServer(
      { host: '127.0.0.1', port: this.knot.port },
      this.zone,
      'DNSKEY',
    )
    const own = new Set([this.kskA, this.zskA].map((key) => keyTagOf(parseDnskey(key.dnskey))))
    return answer.records
      .map(dnskeyOf)
      .filter((key) => !own.has(keyTagOf(key)))
      .map((key) => `${key.flags} 3 ${key.algorithm} ${key.publicKey.toString('base64')}`)
  }

  /** Both providers up and in step: Knot with its KSK and ZSK, BIND serving them. Knot's KSK. */
  async start(): Promise<string> {
    this.#firstKnotKsk = this.knot.keymgr('generate', 'algorithm=13', 'ksk=yes').trim()
    this.knot.keymgr('generate', 'algorithm=13', 'ksk=no')
    this.knot.extraLines = this.#linesFor([this.kskA.dnskey, this.zskA.dnskey])
    await this.knot.start()
    const keys = await this.syncBind()
    return keys.find((text) => text.startsWith('257 ')) as string
  }

  /** The coordinator's step: BIND serves Knot's keys as Knot serves them now, and every KSK's CDS/CDNSKEY. */
  async syncBind(): Promise<string[]> {
    const keys = await this.knotKeys()
    this.bind.sign(
      [this.kskA, this.zskA],
      [],
      [...this.#linesFor(keys), ...this.#linesFor([this.kskA.dnskey], false)],
    )
    await this.bind.serve()
    return keys
  }

  /** Knot starts a KSK rollover: a new KSK, served and in Knot's CDS at once (BIND not yet). */
  async rollKnot(): Promise<void> {
    this.knot.keymgr('generate', 'algorithm=13', 'ksk=yes')
    await this.knot.restart()
  }

  /** Knot retires its first KSK: gone from its DNSKEY and CDS sets (BIND not yet). */
  async retireFirstKnotKsk(): Promise<void> {
    this.knot.keymgr('set', this.#firstKnotKsk, 'retire=+0')
    await this.knot.restart()
  }

  async close(): Promise<void> {
    await this.bind.close()
    await this.knot.close()
  }
}
