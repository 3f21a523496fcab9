import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DnsServer, queryServer } from '#shared/dns/dns-client.ts'
import { type DsRecord, dsFromDnskey, parseDnskey } from '#shared/dns/dnskey.ts'
import { type ScanOutcome, scanZone } from '#shared/dns/scan-zone.ts'
import { decideRollover } from '#shared/dnssec-automation/rollover.ts'
import { freePort } from './helpers/free-port.ts'
import {
  MULTI_SIGNER_STATES,
  type MultiSignerState,
  MULTI_SIGNER_ZONE as ZONE,
} from './helpers/multi-signer.ts'
import { RECORDED_ZONES_FILE, RecordedZone, type RecordedZones } from './helpers/recorded-zone.ts'

/**
 * A multi-signer zone (RFC 8901 model 2) as BIND and Knot served it, step by step, replayed from
 * their recorded answers (`npm run fixtures:dnssec`; `npm run test:interop` runs the live
 * servers through the same rollover with the gateway): the scanner checks each provider's own
 * signatures, the DS set covers both KSKs, a rollover at one provider changes only its DS, and
 * providers that disagree stop the scan.
 */
const recorded = JSON.parse(readFileSync(RECORDED_ZONES_FILE, 'utf8')) as RecordedZones
const keysOf = (server: 'bind' | 'knot') => recorded.zones[`${ZONE}@${server}`]?.keys ?? []
const dsOf = (dnskey: string) => dsFromDnskey(ZONE, parseDnskey(dnskey), 2)
const [kskA] = keysOf('bind')
const [kskB, kskB2] = keysOf('knot').filter((key) => key.ksk)
const dsA = dsOf(kskA?.dnskey as string)
const dsB = dsOf(kskB?.dnskey as string)
const dsB2 = dsOf(kskB2?.dnskey as string)
const tags = (records: readonly DsRecord[]) =>
  records
    .map((ds) => ds.keyTag)
    .sort((a, b) => a - b)
    .join(',')

let bind: RecordedZone
let knot: RecordedZone
let servers: DnsServer[]
beforeAll(async () => {
  bind = new RecordedZone(ZONE, await freePort(), `${ZONE}@bind`)
  knot = new RecordedZone(ZONE, await freePort(), `${ZONE}@knot`)
  bind.useState('agreed')
  knot.useState('agreed')
  await bind.serve()
  await knot.serve()
  servers = [bind, knot].map((zone) => ({ host: '127.0.0.1', port: zone.port }))
})
afterAll(async () => {
  await bind?.close()
  await knot?.close()
})

async function scanAt(
  state: MultiSignerState,
  registry: readonly DsRecord[],
  at: readonly DnsServer[] = servers,
): Promise<ScanOutcome> {
  bind.useState(state)
  knot.useState(state)
  return scanZone(ZONE, at, (server, name, type) => queryServer(server, name, type), registry, {
    nowSeconds: Math.floor(Date.now() / 1000),
    bootstrap: registry.length === 0,
  })
}

describe('a multi-signer zone, BIND and Knot replayed', () => {
  it('was recorded in every step, each KSK of Knot seen', () => {
    expect(MULTI_SIGNER_STATES.length).toBe(5)
    expect([kskA, kskB, kskB2].every(Boolean)).toBe(true)
  })

  it('refuses to bootstrap both providers at once: the registry would publish one DS first', async () => {
    const outcome = await scanAt('agreed', [])
    expect(outcome.ok).toBe(false)
    expect(outcome.ok ? '' : outcome.reason).toMatch(
      /a first DS set is published one record at a time, and DS \d+ alone leaves the DNSKEY RRset served by 127\.0\.0\.1:\d+ without a validating DS/,
    )
  })

  it('keeps a DS set that covers both providers’ KSKs', async () => {
    const outcome = await scanAt('agreed', [dsA, dsB])
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true)
    if (!outcome.ok || typeof outcome.desired === 'string') throw new Error('no DS set')
    expect(tags(outcome.desired)).toBe(tags([dsA, dsB]))
  })

  it('checks each provider’s own signature: a DS for one KSK alone does not validate the other’s answers', async () => {
    const outcome = await scanAt('agreed', [dsA])
    expect(outcome.ok).toBe(false)
    expect(outcome.ok ? '' : outcome.reason).toBe(
      `the DNSKEY RRset served by 127.0.0.1:${knot.port} is not validly signed by a key whose DS the registry holds`,
    )
    // Asked alone, each provider's DNSKEY RRset validates only through its own KSK's DS.
    expect((await scanAt('agreed', [dsA], [servers[0] as DnsServer])).ok).toBe(true)
    expect((await scanAt('agreed', [dsB], [servers[1] as DnsServer])).ok).toBe(true)
    expect((await scanAt('agreed', [dsB], [servers[0] as DnsServer])).ok).toBe(false)
  })

  it('stops while the providers disagree, naming the RRset and the server', async () => {
    for (const state of ['knot-rolled', 'knot-retired'] as const) {
      const outcome = await scanAt(state, [dsA, dsB, dsB2])
      expect(outcome.ok).toBe(false)
      expect(outcome.ok ? '' : outcome.reason).toBe(
        `the servers disagree: 127.0.0.1:${knot.port} serve another DNSKEY RRset than 127.0.0.1:${bind.port}`,
      )
    }
  })

  it('follows a KSK rollover at Knot by changing only Knot’s DS', async () => {
    const parentOf = (records: readonly DsRecord[]) => ({ records, ttlSeconds: 1 })
    const rolled = await scanAt('rolled', [dsA, dsB])
    if (!rolled.ok || typeof rolled.desired === 'string')
      throw new Error('the rolled state did not scan')
    const add = decideRollover({
      desired: rolled.desired,
      keys: rolled.keys,
      registry: [dsA, dsB],
      parent: parentOf([dsA, dsB]),
      now: Date.now(),
    })
    expect(add).toMatchObject({ kind: 'apply', phase: 'adding' })
    expect(add.kind === 'apply' && tags(add.records)).toBe(tags([dsA, dsB, dsB2]))

    const retired = await scanAt('retired', [dsA, dsB, dsB2])
    if (!retired.ok || typeof retired.desired === 'string')
      throw new Error('the retired state did not scan')
    const remove = decideRollover({
      desired: retired.desired,
      keys: retired.keys,
      registry: [dsA, dsB, dsB2],
      parent: parentOf([dsA, dsB, dsB2]),
      publishedSince: Date.now() - 60_000,
      now: Date.now(),
    })
    expect(remove).toMatchObject({ kind: 'apply', phase: 'removing' })
    expect(remove.kind === 'apply' && tags(remove.records)).toBe(tags([dsA, dsB2]))
  })
})
