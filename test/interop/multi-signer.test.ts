import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DnsServer, queryServer } from '#shared/dns/dns-client.ts'
import type { DsRecord } from '#shared/dns/dnskey.ts'
import { scanZone } from '#shared/dns/scan-zone.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { requireBind } from '../helpers/bind.ts'
import { delvValidates } from '../helpers/delv.ts'
import { freePort } from '../helpers/free-port.ts'
import { MultiSignerZone } from '../helpers/multi-signer.ts'
import { parentDs } from '../helpers/parent-ds.ts'
import { type Pipeline, startPipeline } from '../helpers/pipeline.ts'
import { requireServer } from '../helpers/policy-server.ts'

/**
 * RFC 8901 model 2: BIND and Knot serve one zone, each signing with its own KSK and ZSK and
 * serving the other's keys; the CDS set names both KSKs. The gateway bootstraps a DS set that
 * covers both, follows a KSK rollover at Knot by changing only Knot's DS, stops while the
 * providers disagree, and the parent's DS set validates both servers' DNSKEY RRsets at every
 * sample. The test plays the multi-signer coordinator (RFC 8901 leaves that to the operator):
 * it copies each provider's keys and the CDS set into the other's zone file. Knot's policy is the
 * operator's guide's (`docs/desired-state-and-dnssec.md`).
 */
const ZONE = 'multi-signer-example.com'

const tags = (records: readonly DsRecord[]) =>
  records
    .map((ds) => ds.keyTag)
    .sort((a, b) => a - b)
    .join(',')

describe('a multi-signer zone (RFC 8901 model 2): BIND and Knot, each with its own keys', () => {
  let p: Pipeline
  let zone: MultiSignerZone
  let parentPort: number
  let servers: DnsServer[]

  beforeAll(async () => {
    requireBind()
    requireServer('knot-multi-signer')
    const [bindPort, knotPort] = [await freePort(), await freePort()]
    parentPort = await freePort()
    servers = [
      { host: '127.0.0.1', port: bindPort },
      { host: '127.0.0.1', port: knotPort },
    ]
    p = await startPipeline({
      emulatorTaskMs: 50,
      parentZone: { port: parentPort, publishDelayMs: 300, dsTtlSeconds: 1 },
      env: {
        DNS_SERVER_OVERRIDES: JSON.stringify({
          [ZONE]: servers.map((server) => `${server.host}:${server.port}`),
          com: [`127.0.0.1:${parentPort}`],
        }),
        CALLBACK_ALLOW_LOOPBACK: 'true',
        DNSSEC_BOOTSTRAP_SCANS: '2',
      },
    })
    zone = new MultiSignerZone(ZONE, { bind: bindPort, knot: knotPort, parent: parentPort })
  }, 60_000)
  afterAll(async () => {
    await zone?.close()
    await p?.closeAll()
  })

  const scan = async () => {
    const response = await p.request(`/domains/${ZONE}/dnssec/scan`, {
      method: 'POST',
      key: p.tenant.key,
    })
    expect(response.status).toBe(200)
    return ((await response.json()) as { result: { ok: boolean; phase: string; reason?: string } })
      .result
  }
  const parentDsNow = () => parentDs(parentPort, ZONE)
  const registry = () => p.emulator.account.dsRecords.get(ZONE) ?? []

  /** Scans and runs the poller until the registry holds `want` and the phase is idle; the chain checked at every sample. */
  async function followTo(want: readonly DsRecord[]) {
    const poller = p.pollerDeps()
    const deadline = Date.now() + 60_000
    let samples = 0
    for (;;) {
      const result = await scan()
      const parent = await parentDsNow()
      if (parent.length > 0) {
        // Both servers' DNSKEY RRsets, each with its own signatures, validate from the parent's DS.
        for (const server of servers) {
          const outcome = await scanZone(
            ZONE,
            [server],
            (at, name, type) => queryServer(at, name, type),
            parent,
            { nowSeconds: Math.floor(Date.now() / 1000), bootstrap: false },
          )
          expect(outcome.ok, outcome.ok ? '' : `${server.port}: ${outcome.reason}`).toBe(true)
          const delv = await delvValidates(server, ZONE, parent)
          expect(delv.ok, delv.output).toBe(true)
        }
        samples++
      }
      if (result.phase === 'idle' && tags(registry()) === tags(want) && tags(parent) === tags(want))
        return samples
      if (Date.now() > deadline) {
        const seen = await Promise.all(
          servers.map(async (server) => ({
            port: server.port,
            cds: (await queryServer(server, ZONE, 'CDS')).records.map((r) =>
              (r as { data: Buffer }).data.toString('hex'),
            ),
            cdnskey: (await queryServer(server, ZONE, 'CDNSKEY')).records.length,
          })),
        )
        throw new Error(
          `${JSON.stringify(seen)} ` +
            `registry ${tags(registry())}, parent ${tags(parent)}, want ${tags(want)}: ${result.phase} ${result.reason}`,
        )
      }
      await runPoller(poller, Date.now() + 300)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  it('refuses a one-step bootstrap of both providers, then follows a rollover at one provider by changing only its DS', async () => {
    const kskB = await zone.start()
    const dsA = zone.dsOf(zone.kskA.dnskey)
    const dsB = zone.dsOf(kskB)

    const response = await p.request(`/domains/${ZONE}/dnssec`, {
      method: 'PUT',
      key: p.tenant.key,
      body: JSON.stringify({ mode: 'cds', bootstrap: true }),
    })
    expect(response.status).toBe(200)
    // Both providers at once cannot be bootstrapped: the registry adds one DS per task, so the
    // parent would first serve one provider's DS alone, and the other's answers would be bogus.
    const refused = await scan()
    expect(refused.ok).toBe(false)
    expect(refused.reason).toMatch(/a first DS set is published one record at a time/)
    expect(registry()).toEqual([])
    // As RFC 8901 onboards them — one provider secured first, then the other's DS added — the
    // delegation holds both KSKs' DS.
    p.emulator.account.dsRecords.set(ZONE, [dsA, dsB])
    p.emulator.parentZone?.publication.record(ZONE, [dsA, dsB], Date.now() - 1_000)
    await followTo([dsA, dsB])

    // Knot rolls its KSK: the new key and its CDS appear at Knot first — the providers disagree.
    await zone.rollKnot()
    const stopped = await scan()
    expect(stopped.ok).toBe(false)
    expect(stopped.reason).toMatch(
      /the servers disagree: 127\.0\.0\.1:\d+ serve another DNSKEY RRset/,
    )
    expect(tags(registry())).toBe(tags([dsA, dsB]))
    const events = () =>
      p.receiver.received.map((request) => p.receiver.verify(request, p.tenant.webhookSecret))
    await p.drainUntil(() =>
      events().some((event) => event.type === 'dnssec.scan.failed' && event.data.domain === ZONE),
    )
    // The coordinator catches BIND up: the new DS is added.
    const rolled = await zone.syncBind()
    const kskB2 = rolled.find((text) => text.startsWith('257 ') && text !== kskB) as string
    const dsB2 = zone.dsOf(kskB2)
    await followTo([dsA, dsB, dsB2])
    // Knot retires its old KSK (gone from its DNSKEY and CDS); BIND follows; its DS goes.
    await zone.retireFirstKnotKsk()
    await zone.syncBind()
    const samples = await followTo([dsA, dsB2])
    expect(samples).toBeGreaterThan(0)

    const tasks = [...p.emulator.account.tasks.values()]
      .map((task) => task.kind)
      .filter((kind) => 'domain' in kind && kind.domain === ZONE)
      .map((kind) =>
        kind.type === 'deleteDs'
          ? `delete ${kind.keyTag}`
          : kind.type === 'addDs'
            ? `add ${kind.record.keyTag}`
            : kind.type,
      )
    // BIND's DS was never touched; only Knot's changed.
    expect(tasks.filter((task) => task.endsWith(` ${dsA.keyTag}`))).toEqual([])
    expect(tasks).toContain(`add ${dsB2.keyTag}`)
    expect(tasks).toContain(`delete ${dsB.keyTag}`)
  }, 240_000)
})
