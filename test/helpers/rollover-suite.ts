import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DnssecStateSchema } from '#functions/api/schemas/dnssec-schemas.ts'
import { queryServer } from '#shared/dns/dns-client.ts'
import { scanZone } from '#shared/dns/scan-zone.ts'
import type { DsRecord } from '#shared/dnssec.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { type Pipeline, startPipeline } from './pipeline.ts'
import type { TestZone, ZoneKey } from './test-zone.ts'

/**
 * A real KSK rollover: a zone signed by real keys (BIND's `dnssec-keygen` and `dnssec-signzone`)
 * publishes CDS; the emulator plays the registry and the parent zone (DS published 300 ms after a
 * task, TTL 1 s). The gateway adds the new DS, waits until the parent serves it and its TTL has
 * passed, then removes the old one — and at every step the parent's DS set validates the zone's
 * DNSKEY set. The zones are served by BIND itself (`npm run test:interop`) or by BIND's recorded
 * answers in-process (`npm test`); the same tests run on both.
 */
const ZONE = 'rollover-example.com'
const OTHER = 'mismatch-example.com'
const BOOT = 'unsigned-example.com'

/**
 * The keys each zone's tests make, in order (true: a KSK), and the states they sign it in: the
 * keys published and those with a CDS, by index. `npm run fixtures:dnssec` records these.
 */
export const CDS_SCENARIOS: Record<
  string,
  {
    readonly keys: readonly boolean[]
    readonly states: readonly (readonly [readonly number[], readonly number[]])[]
  }
> = {
  // KSK1, ZSK, KSK2, a stranger's key, an impostor's key.
  [ZONE]: {
    keys: [true, false, true, true, true],
    states: [
      [[0, 1], [0]],
      [[0, 2, 1], [2]],
      [[2, 1], [2]],
      [[2, 1], [3]],
      [[4, 1], [4]],
    ],
  },
  // Two KSKs and a ZSK, with a CDS for one of them.
  [OTHER]: { keys: [true, false, true], states: [[[0, 2, 1], [0]]] },
  [BOOT]: { keys: [true, false], states: [[[0, 1], [0]]] },
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** The CDS-driven DNSSEC tests, with the zones `makeZone` serves. */
export function describeCdsAutomation(
  title: string,
  makeZone: (zone: string, port: number) => TestZone,
): void {
  let p: Pipeline
  let bind: TestZone
  let second: TestZone
  let boot: TestZone
  let parentPort: number
  /** Each zone's keys, made in the order CDS_SCENARIOS gives. */
  let keys: Record<string, ZoneKey[]>
  let ksk1: ZoneKey
  let zsk: ZoneKey
  /** The KSK whose DS the registry holds after the rollover. */
  let current: ZoneKey

  beforeAll(async () => {
    const [bindPort, secondPort, bootPort] = [await freePort(), await freePort(), await freePort()]
    parentPort = await freePort()
    bind = makeZone(ZONE, bindPort)
    second = makeZone(OTHER, secondPort)
    boot = makeZone(BOOT, bootPort)
    keys = Object.fromEntries(
      [bind, second, boot].map((zone) => [
        zone.zone,
        (CDS_SCENARIOS[zone.zone]?.keys ?? []).map((ksk) => zone.newKey(ksk)),
      ]),
    )
    p = await startPipeline({
      emulatorTaskMs: 50,
      parentZone: { port: parentPort, publishDelayMs: 300, dsTtlSeconds: 1 },
      env: {
        DNS_SERVER_OVERRIDES: JSON.stringify({
          [ZONE]: [`127.0.0.1:${bindPort}`],
          [OTHER]: [`127.0.0.1:${bindPort}`, `127.0.0.1:${secondPort}`],
          [BOOT]: [`127.0.0.1:${bootPort}`],
          com: [`127.0.0.1:${parentPort}`],
        }),
        CALLBACK_ALLOW_LOOPBACK: 'true',
        DNSSEC_BOOTSTRAP_SCANS: '2',
      },
    })
    ;[ksk1, zsk] = keys[ZONE] as [ZoneKey, ZoneKey]
    bind.sign([ksk1, zsk], [ksk1])
    await bind.serve()
    // The delegation as it stands: the registry holds DS(KSK1), and the parent serves it.
    const ds = bind.dsOf(ksk1)
    p.emulator.account.dsRecords.set(ZONE, [ds])
    p.emulator.parentZone?.publication.record(ZONE, [ds], Date.now() - 1_000)
  }, 60_000)
  afterAll(async () => {
    await bind?.close()
    await second?.close()
    await boot?.close()
    await p?.closeAll()
  })

  const put = (path: string, body: unknown) =>
    p.request(path, { method: 'PUT', key: p.tenant.key, body: JSON.stringify(body) })
  const scan = async (domain: string) => {
    const response = await p.request(`/domains/${domain}/dnssec/scan`, {
      method: 'POST',
      key: p.tenant.key,
    })
    expect(response.status).toBe(200)
    return (await response.json()) as {
      result: { ok: boolean; phase: string; action: string; reason?: string }
      state: Record<string, unknown>
    }
  }
  const registryDs = (domain: string) =>
    (p.emulator.account.dsRecords.get(domain) ?? [])
      .map((ds) => ({ ...ds, digest: ds.digest.toLowerCase() }))
      .sort((a, b) => a.keyTag - b.keyTag)
  const parentDs = async (domain: string): Promise<DsRecord[]> => {
    const answer = await queryServer({ host: '127.0.0.1', port: parentPort }, domain, 'DS')
    return answer.records.map((record) => {
      const data = (
        record as {
          data: { keyTag: number; algorithm: number; digestType: number; digest: Buffer }
        }
      ).data
      return { ...data, digest: data.digest.toString('hex') }
    })
  }
  /** Our own validation: the parent's DS set must validate the zone's DNSKEY set. */
  async function chainValid(): Promise<boolean> {
    const outcome = await scanZone(
      ZONE,
      [{ host: '127.0.0.1', port: bind.port }],
      (server, name, type) => queryServer(server, name, type),
      await parentDs(ZONE),
      { nowSeconds: Math.floor(Date.now() / 1000), bootstrap: false },
    )
    return outcome.ok
  }
  const events = () =>
    p.receiver.received.map((request) => p.receiver.verify(request, p.tenant.webhookSecret))

  describe(title, () => {
    it('enrols a domain and finds it in sync', async () => {
      expect((await put(`/domains/${ZONE}/dnssec`, { mode: 'cds' })).status).toBe(200)
      const { result } = await scan(ZONE)
      expect(result).toMatchObject({ ok: true, phase: 'idle', action: 'none' })
      const state = (await (
        await p.request(`/domains/${ZONE}/dnssec`, { key: p.tenant.key })
      ).json()) as {
        lastScan: { keys: { keyTag: number; sep: boolean }[]; cds: DsRecord[] }
      }
      expect(state.lastScan.keys.map((key) => key.keyTag).sort()).toEqual(
        [ksk1.keyTag, zsk.keyTag].sort(),
      )
      expect(state.lastScan.cds).toEqual([bind.dsOf(ksk1)])
      // The answer is exactly what the OpenAPI document describes: it parses, and parsing (which
      // drops undescribed fields at any depth) leaves it whole.
      const described = DnssecStateSchema.safeParse(state)
      expect(described.error?.issues ?? []).toEqual([])
      expect(described.data).toEqual(state)
      expect(await chainValid()).toBe(true)
    })

    it('rolls the KSK: the new DS is added, published, its TTL waited out, then the old one removed; valid at every step', async () => {
      const ksk2 = keys[ZONE]?.[2] as ZoneKey
      bind.sign([ksk1, ksk2, zsk], [ksk2])
      await bind.serve()
      const phases: string[] = []
      const poller = p.pollerDeps()
      const deadline = Date.now() + 60_000
      for (;;) {
        const { result } = await scan(ZONE)
        if (phases.at(-1) !== result.phase) phases.push(result.phase)
        expect(await chainValid(), `chain at phase ${result.phase}`).toBe(true)
        const done =
          result.phase === 'idle' &&
          JSON.stringify(registryDs(ZONE)) === JSON.stringify([bind.dsOf(ksk2)])
        if (done) break
        if (Date.now() > deadline)
          throw new Error(`rollover stuck at ${result.phase}: ${result.reason}`)
        // The change's steps run through the queue: let the poller work, then look again.
        await runPoller(poller, Date.now() + 300)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(phases[0]).toBe('adding')
      expect(phases).toContain('awaiting-ttl')
      expect(phases.indexOf('removing')).toBeGreaterThan(phases.indexOf('awaiting-ttl'))
      // The registry saw the add before the delete.
      const tasks = [...p.emulator.account.tasks.values()]
        .filter((task) => 'domain' in task.kind && task.kind.domain === ZONE)
        .map((task) => task.kind.type)
      expect(tasks).toEqual(['addDs', 'deleteDs'])
      current = ksk2
      // The zone may now drop the old KSK, and stays valid.
      bind.sign([ksk2, zsk], [ksk2])
      await bind.serve()
      expect(await chainValid()).toBe(true)
      expect((await scan(ZONE)).result).toMatchObject({ ok: true, phase: 'idle' })
      await p.drainUntil(() =>
        ['dnssec.ds.submitted', 'dnssec.ds.published', 'dnssec.rollover.completed'].every((type) =>
          events().some((event) => event.type === type && event.data.domain === ZONE),
        ),
      )
      // Delivered in any order, numbered in the order they happened.
      const sequenceOf = (type: string) =>
        events().find((event) => event.type === type && event.data.domain === ZONE)?.data
          .sequence as number
      expect(sequenceOf('dnssec.ds.submitted')).toBeLessThan(sequenceOf('dnssec.ds.published'))
      expect(sequenceOf('dnssec.ds.published')).toBeLessThan(
        sequenceOf('dnssec.rollover.completed'),
      )
    }, 90_000)

    it('never adds a DS for a key the zone does not serve with the SEP flag', async () => {
      // A valid zone (signed by the key the registry trusts) whose CDS names a key it does not serve.
      const stranger = keys[ZONE]?.[3] as ZoneKey
      bind.sign([current, zsk], [stranger])
      await bind.serve()
      const before = registryDs(ZONE)
      const { result } = await scan(ZONE)
      expect(result).toMatchObject({ ok: true, action: 'refused' })
      expect(result.reason).toMatch(new RegExp(`key ${stranger.keyTag}`))
      expect(registryDs(ZONE)).toEqual(before)
    })

    it('refuses a CDS from a zone signed by a key outside the registry DS set', async () => {
      const impostor = keys[ZONE]?.[4] as ZoneKey
      bind.sign([impostor, zsk], [impostor])
      await bind.serve()
      const before = registryDs(ZONE)
      const { result } = await scan(ZONE)
      expect(result.ok).toBe(false)
      expect(result.reason).toMatch(/matches a DS the registry holds/)
      expect(registryDs(ZONE)).toEqual(before)
      await p.drainUntil(() =>
        events().some((event) => event.type === 'dnssec.scan.failed' && event.data.domain === ZONE),
      )
    })

    it('stops when the servers disagree', async () => {
      // Two servers for one zone, each with another CDS.
      const [a, z, b] = keys[OTHER] as [ZoneKey, ZoneKey, ZoneKey]
      second.sign([a, b, z], [a])
      await second.serve()
      // The other listed server (the rollover-example.com one) does not serve this zone at all.
      p.emulator.account.dsRecords.set(OTHER, [second.dsOf(a)])
      expect((await put(`/domains/${OTHER}/dnssec`, { mode: 'cds' })).status).toBe(200)
      const { result } = await scan(OTHER)
      expect(result.ok).toBe(false)
      expect(result.reason).toMatch(/disagree|did not answer/)
    })

    it('bootstraps an unsigned delegation only when enrolled so, after identical scans over TCP', async () => {
      const [key, zoneKey] = keys[BOOT] as [ZoneKey, ZoneKey]
      boot.sign([key, zoneKey], [key])
      await boot.serve()
      expect((await put(`/domains/${BOOT}/dnssec`, { mode: 'cds' })).status).toBe(200)
      const refused = await scan(BOOT)
      expect(refused.result).toMatchObject({ ok: false })
      expect(refused.result.reason).toMatch(/unsigned/)
      expect((await put(`/domains/${BOOT}/dnssec`, { mode: 'cds', bootstrap: true })).status).toBe(
        200,
      )
      expect((await scan(BOOT)).result).toMatchObject({ ok: true, action: 'none' })
      expect(registryDs(BOOT)).toEqual([])
      expect((await scan(BOOT)).result).toMatchObject({ ok: true, action: 'submitted' })
      const poller = p.pollerDeps()
      const deadline = Date.now() + 10_000
      while (JSON.stringify(registryDs(BOOT)) !== JSON.stringify([boot.dsOf(key)])) {
        if (Date.now() > deadline) throw new Error('the first DS was not added')
        await runPoller(poller, Date.now() + 300)
      }
    })
  })
}
