import { createHash } from 'node:crypto'
import dnsPacket, { type Answer, type Packet } from 'dns-packet'
import { serveDns } from '#infra/emulator/dns-server.ts'
import { ZoneSigningKey } from '#infra/emulator/zone-signing.ts'
import { type DsRecord, dnskeyRdata, dsFromDnskey } from '#shared/dns/dnskey.ts'
import { dsRdataOf } from '#shared/dns/dnssec-records.ts'

/**
 * The demo zones `npm start` serves, so a newcomer meets the safety checks and the DNSSEC
 * automation on real DNS: one DNS operator ("demo-dns.test") serving every demo zone signed —
 * each with its own ECDSA key (a CSK), the same at every start — and publishing a CDS for it,
 * and another ("plain-dns.test") serving the same zones unsigned, the provider a careless move
 * goes to. The emulator's parent zone delegates the demo zones to the first.
 */

export const DEMO_ZONES = ['demo-signed.com', 'demo-rollover.net'] as const
export const SIGNED_PROVIDER = ['ns1.demo-dns.test', 'ns2.demo-dns.test'] as const
export const PLAIN_PROVIDER = ['ns1.plain-dns.test', 'ns2.plain-dns.test'] as const

export interface DemoZone {
  readonly zone: string
  /** The zone's key as DNSKEY RDATA text (flags 257: the gateway computes its DS). */
  readonly dnskey: string
  readonly ds: DsRecord
}

export interface RunningDemoZones {
  readonly zones: readonly DemoZone[]
  /** `DNS_SERVER_OVERRIDES` entries: the demo zones and both providers' name servers. */
  readonly overrides: Record<string, string[]>
  close(): Promise<void>
}

const TTL = 60

function keyOf(zone: string): ZoneSigningKey {
  return new ZoneSigningKey(createHash('sha256').update(`domain-gateway demo ${zone}`).digest())
}

/** An authoritative answer for a demo zone: signed by its key, or (`plain`) unsigned. */
function answerTo(
  request: Packet,
  keys: ReadonlyMap<string, ZoneSigningKey>,
  signed: boolean,
): Packet {
  const question = request.questions?.[0]
  const base = { type: 'response' as const, id: request.id, questions: request.questions }
  const name = question?.name.toLowerCase().replace(/\.$/, '') ?? ''
  const zone = [...keys.keys()].find(
    (candidate) => name === candidate || name.endsWith(`.${candidate}`),
  )
  // Not ours: REFUSED, as an authoritative server answers for a zone it does not serve.
  if (!question || !zone) return { ...base, flags: 5, answers: [] }
  const key = keys.get(zone) as ZoneSigningKey
  const flags = dnsPacket.AUTHORITATIVE_ANSWER
  if (name !== zone) return { ...base, flags, answers: [] }
  const nowSeconds = Math.floor(Date.now() / 1000)
  const rrset = (type: string, typeNumber: number, rdatas: Buffer[], records: Answer[]) =>
    signed && rdatas.length > 0
      ? [...records, key.sign(zone, { name, type, typeNumber }, rdatas, TTL, nowSeconds)]
      : records
  const provider = signed ? SIGNED_PROVIDER : PLAIN_PROVIDER
  switch (question.type) {
    case 'NS':
      return {
        ...base,
        flags,
        answers: provider.map((host) => ({ type: 'NS', name, ttl: TTL, class: 'IN', data: host })),
      }
    case 'DNSKEY': {
      if (!signed) return { ...base, flags, answers: [] }
      const { dnskey } = key
      const record = {
        type: 'DNSKEY',
        name,
        ttl: TTL,
        class: 'IN',
        data: { flags: dnskey.flags, algorithm: dnskey.algorithm, key: dnskey.publicKey },
      } as Answer
      return { ...base, flags, answers: rrset('DNSKEY', 48, [dnskeyRdata(dnskey)], [record]) }
    }
    case 'CDS':
    case 'CDNSKEY': {
      if (!signed) return { ...base, flags, answers: [] }
      const cds = question.type === 'CDS'
      const rdata = cds ? dsRdataOf(dsFromDnskey(zone, key.dnskey, 2)) : dnskeyRdata(key.dnskey)
      const record = { type: question.type, name, ttl: TTL, class: 'IN', data: rdata } as Answer
      return {
        ...base,
        flags,
        answers: rrset(question.type, cds ? 59 : 60, [rdata], [record]),
      }
    }
    default:
      return { ...base, flags, answers: [] }
  }
}

/** Both providers on loopback ports of their own (`zones`: the demo zones, or others). */
export async function startDemoZones(
  zones: readonly string[] = DEMO_ZONES,
): Promise<RunningDemoZones> {
  const keys = new Map(zones.map((zone) => [zone, keyOf(zone)]))
  const signed = await serveDns((request) => answerTo(request, keys, true))
  const plain = await serveDns((request) => answerTo(request, keys, false)).catch(
    async (error: unknown) => {
      await signed.close()
      throw error
    },
  )
  const at = (port: number) => [`127.0.0.1:${port}`]
  return {
    zones: zones.map((zone) => {
      const key = (keys.get(zone) as ZoneSigningKey).dnskey
      return {
        zone,
        dnskey: `257 3 13 ${key.publicKey.toString('base64')}`,
        ds: dsFromDnskey(zone, key, 2),
      }
    }),
    overrides: {
      ...Object.fromEntries(zones.map((zone) => [zone, at(signed.port)])),
      ...Object.fromEntries(SIGNED_PROVIDER.map((host) => [host, at(signed.port)])),
      ...Object.fromEntries(PLAIN_PROVIDER.map((host) => [host, at(plain.port)])),
    },
    async close() {
      await signed.close()
      await plain.close()
    },
  }
}
