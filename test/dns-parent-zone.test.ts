import type { Answer, DSAnswer } from 'dns-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DsPublication } from '#infra/emulator/dns-parent.ts'
import type { RunningEmulator } from '#infra/emulator/server.ts'
import { queryServer } from '#shared/dns/dns-client.ts'
import { dnskeyRdata, dsFromDnskey, keyTagOf } from '#shared/dns/dnskey.ts'
import { DNSKEY, DS, dnskeyOf, dsOf, dsRdataOf, signedByOneOf } from '#shared/dns/dnssec-records.ts'
import { parseTrustAnchor } from '#shared/dns/trust-anchors.ts'
import { clientFor, SHA256_DIGEST, startTestEmulator } from './helpers/emulator.ts'

/** The emulator plays the parent zone: DS sets its tasks set, served over DNS after a delay. */
let emulator: RunningEmulator
const PUBLISH_DELAY_MS = 300
beforeAll(async () => {
  emulator = await startTestEmulator({
    account: { taskMs: 50 },
    parentZone: { publishDelayMs: PUBLISH_DELAY_MS, dsTtlSeconds: 2 },
  })
})
afterAll(() => emulator.close())

const server = () => ({ host: '127.0.0.1', port: emulator.parentZone?.port as number })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the parent zone served by the emulator', () => {
  it('serves a DS set only after its task settled and the publication delay passed', async () => {
    const client = clientFor(emulator)
    expect((await queryServer(server(), 'parent-example.com', 'DS')).rcode).toBe('NXDOMAIN')
    await client.addDsRecord({
      domainName: 'parent-example.com',
      keyTag: 4242,
      algorithm: 13,
      digestType: 2,
      digest: SHA256_DIGEST,
    })
    await sleep(60)
    // Settled at the registry, not yet published by the parent.
    expect((await queryServer(server(), 'parent-example.com', 'DS')).records).toEqual([])
    await sleep(PUBLISH_DELAY_MS)
    const answer = await queryServer(server(), 'parent-example.com', 'DS')
    expect(answer.authoritative).toBe(true)
    expect(answer.records).toHaveLength(1)
    const record = answer.records[0] as DSAnswer
    expect(record).toMatchObject({ type: 'DS', ttl: 2 })
    expect(record.data).toMatchObject({ keyTag: 4242, algorithm: 13, digestType: 2 })
    expect(record.data.digest.toString('hex')).toBe(SHA256_DIGEST)
  })

  it('answers the same over TCP', async () => {
    const answer = await queryServer(server(), 'parent-example.com', 'DS', { tcp: true })
    expect(answer.tcp).toBe(true)
    expect(answer.records).toHaveLength(1)
  })

  it('fails clearly when a server does not answer', async () => {
    await expect(
      queryServer({ host: '127.0.0.1', port: 9 }, 'parent-example.com', 'DS', { timeoutMs: 200 }),
    ).rejects.toThrow(/127\.0\.0\.1:9/)
  })

  it('is signed as a TLD: its key matches its trust anchor, its DS sets carry valid signatures, other questions are referrals', async () => {
    const publication = emulator.parentZone?.publication as DsPublication
    const [line] = JSON.parse(publication.trustAnchors(['com'])) as string[]
    const anchor = parseTrustAnchor(line as string)
    const nowSeconds = Math.floor(Date.now() / 1000)
    const keys = await queryServer(server(), 'com', 'DNSKEY')
    expect(keys.records).toHaveLength(1)
    const key = dnskeyOf(keys.records[0] as Answer)
    expect(dsFromDnskey('com', key, 2)).toEqual(anchor?.ds)
    const keyWire = [{ name: 'com', type: DNSKEY, rdata: dnskeyRdata(key) }]
    expect(signedByOneOf('com', DNSKEY, keyWire, keys.signatures, [key], nowSeconds)).toBe(
      keyTagOf(key),
    )
    const ds = await queryServer(server(), 'parent-example.com', 'DS')
    const dsWire = ds.records.map((record) => ({
      name: 'parent-example.com',
      type: DS,
      rdata: dsRdataOf(dsOf(record)),
    }))
    expect(signedByOneOf('com', DS, dsWire, ds.signatures, [key], nowSeconds)).toBe(keyTagOf(key))
    // A signature over other data does not verify.
    const forged = dsWire.map((record) => ({
      ...record,
      rdata: Buffer.from(record.rdata).fill(1, 4),
    }))
    expect(signedByOneOf('com', DS, forged, ds.signatures, [key], nowSeconds)).toBeUndefined()
    const referral = await queryServer(server(), 'www.parent-example.com', 'A')
    expect(referral.authoritative).toBe(false)
    expect(referral.referral).toEqual({
      zone: 'parent-example.com',
      nameServers: ['ns1.example-dns.net', 'ns2.example-dns.net'],
    })
  })
})
