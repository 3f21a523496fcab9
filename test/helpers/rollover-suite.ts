import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DnssecStateSchema } from '#functions/api/schemas/dnssec-schemas.ts'
import { queryServer } from '#shared/dns/dns-client.ts'
import type { DsRecord } from '#shared/dns/dnskey.ts'
import { scanZone } from '#shared/dns/scan-zone.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { freePort } from './free-port.ts'
import { parentDs as parentDsAt } from './parent-ds.ts'
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
/** A child bootstrapped through its DNS operator's RFC 9615 signals, and the operator's zone. */
const SIGNAL_CHILD = 'signal-child.com'
const SIGNALS = 'op-signals.com'
export const SIGNAL_NAME_SERVERS = [`ns1.${SIGNALS}`, `ns2.${SIGNALS}`] as const

/** The signals for the child (a CDS for `ds`) at every name server's signal name. */
const signalLines = (ds: DsRecord) =>
  SIGNAL_NAME_SERVERS.map(
    (host) =>
      `_dsboot.${SIGNAL_CHILD}._signal.${host}. 60 IN CDS ${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest.toUpperCase()}`,
  )

/** Extra lines of a state, given the DS of any scenario key (zone, index in its keys). */
type ExtraLines = (ds: (zone: string, index: number) => DsRecord) => string[]

/**
 * The keys each zone's tests make, in order (true: a KSK), and the states they sign it in: the
 * keys published and those with a CDS, by index. `npm run fixtures:dnssec` records these.
 */
export const CDS_SCENARIOS: Record<
  string,
  {
    readonly keys: readonly boolean[]
    readonly states: readonly (
      | readonly [readonly number[], readonly number[]]
      | readonly [readonly number[], readonly number[], ExtraLines]
    )[]
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
      [
        [2, 1],
        [2, 3],
      ],
      [[2, 1], []],
      [[4, 1], [4]],
    ],
  },
  // Two KSKs and a ZSK, with a CDS for one of them.
  [OTHER]: { keys: [true, false, true], states: [[[0, 2, 1], [0]]] },
  [BOOT]: { keys: [true, false], states: [[[0, 1], [0]]] },
  [SIGNAL_CHILD]: { keys: [true, false], states: [[[0, 1], [0]]] },
  // The operator's zone: signals naming the child's KSK (as its CDS does), or its ZSK (a contradiction).
  [SIGNALS]: {
    keys: [true, false],
    states: [
      [[0, 1], [], (ds) => signalLines(ds(SIGNAL_CHILD, 0))],
      [[0, 1], [], (ds) => signalLines(ds(SIGNAL_CHILD, 1))],
    ],
  },
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
  let child: TestZone
  let signals: TestZone
  let parentPort: number
  /** Each zone's keys, made in the order CDS_SCENARIOS gives. */
  let keys: Record<string, ZoneKey[]>
  let ksk1: ZoneKey
  let zsk: ZoneKey
  /** The KSK whose DS the registry holds after the rollover. */
  let current: ZoneKey

  beforeAll(async () => {
    const [bindPort, secondPort, bootPort] = [await freePort(), await freePort(), await freePort()]
    const [childPort, signalsPort] = [await freePort(), await freePort()]
    parentPort = await freePort()
    bind = makeZone(ZONE, bindPort)
    second = makeZone(OTHER, secondPort)
    boot = makeZone(BOOT, bootPort)
    child = makeZone(SIGNAL_CHILD, childPort)
    signals = makeZone(SIGNALS, signalsPort)
    keys = Object.fromEntries(
      [bind, second, boot, child, signals].map((zone) => [
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
          [SIGNAL_CHILD]: [`127.0.0.1:${childPort}`],
          [SIGNALS]: [`127.0.0.1:${signalsPort}`],
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
    await child?.close()
    await signals?.close()
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
  const parentDs = (domain: string) => parentDsAt(parentPort, domain)
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
      // A valid zone (signed by the key the registry trusts) whose CDS also names a key it does not serve.
      const stranger = keys[ZONE]?.[3] as ZoneKey
      bind.sign([current, zsk], [current, stranger])
      await bind.serve()
      const before = registryDs(ZONE)
      const { result } = await scan(ZONE)
      expect(result).toMatchObject({ ok: true, action: 'refused' })
      expect(result.reason).toMatch(new RegExp(`key ${stranger.keyTag}`))
      expect(registryDs(ZONE)).toEqual(before)
    })

    it('never asks for a DS set that would leave the DNSKEY RRset without a validating DS', async () => {
      // The CDS names only a key that signs nothing: the current DS would be removed for it.
      const stranger = keys[ZONE]?.[3] as ZoneKey
      bind.sign([current, zsk], [stranger])
      await bind.serve()
      const before = registryDs(ZONE)
      const { result } = await scan(ZONE)
      expect(result.ok).toBe(false)
      expect(result.reason).toMatch(/not signed by a key the CDS or CDNSKEY names/)
      expect(registryDs(ZONE)).toEqual(before)
    })

    it('a signed zone that publishes no CDS or CDNSKEY asks for nothing: no change, no failure', async () => {
      bind.sign([current, zsk], [])
      await bind.serve()
      const before = registryDs(ZONE)
      const { result } = await scan(ZONE)
      expect(result).toMatchObject({ ok: true, phase: 'idle', action: 'none' })
      expect(result.reason).toBe('the zone publishes no CDS or CDNSKEY: nothing to change')
      expect(registryDs(ZONE)).toEqual(before)
      // A successful scan: nothing reported as failed.
      const state = (await (
        await p.request(`/domains/${ZONE}/dnssec`, { key: p.tenant.key })
      ).json()) as { failureReported?: boolean; lastScan: { ok: boolean; cds: unknown[] } }
      expect(state.failureReported).toBe(false)
      expect(state.lastScan).toMatchObject({ ok: true, cds: [] })
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

    describe('RFC 9615: the DNS operator signals the first DS', () => {
      const dsOfKey = (zone: string, index: number) => {
        const zoneOf = { [SIGNAL_CHILD]: child, [SIGNALS]: signals } as Record<string, TestZone>
        return (zoneOf[zone] as TestZone).dsOf(keys[zone]?.[index] as ZoneKey)
      }
      /** The operator's zone in one of its recorded states (0: the right signal, 1: a wrong one). */
      const signalState = async (index: 0 | 1) => {
        const [published, cds, extra] = (CDS_SCENARIOS[SIGNALS] as (typeof CDS_SCENARIOS)[string])
          .states[index] as [number[], number[], ExtraLines]
        const own = keys[SIGNALS] as ZoneKey[]
        signals.sign(
          published.map((at) => own[at] as ZoneKey),
          cds.map((at) => own[at] as ZoneKey),
          extra(dsOfKey),
        )
        await signals.serve()
      }
      type SignalView = { ok: boolean; reason?: string; names?: string[] }
      const lastSignal = async () =>
        (
          (await (
            await p.request(`/domains/${SIGNAL_CHILD}/dnssec`, { key: p.tenant.key })
          ).json()) as { lastScan: { signal?: SignalView }; waitReason?: string }
        ).lastScan.signal

      it("without a secure delegation to the operator's zone, a required signal keeps the DS back", async () => {
        const [key, zoneKey] = keys[SIGNAL_CHILD] as [ZoneKey, ZoneKey]
        child.sign([key, zoneKey], [key])
        await child.serve()
        await signalState(0)
        // The parent delegates the child to the operator's name servers; the operator's zone
        // has no DS at the parent yet, so nothing in it is authenticated.
        p.emulator.account.nameServers.set(SIGNAL_CHILD, [...SIGNAL_NAME_SERVERS])
        expect(
          (
            await put(`/domains/${SIGNAL_CHILD}/dnssec`, {
              mode: 'cds',
              bootstrap: true,
              requireSignal: true,
            })
          ).status,
        ).toBe(200)
        for (let i = 0; i < 3; i++) {
          const { result } = await scan(SIGNAL_CHILD)
          expect(result).toMatchObject({ ok: true, phase: 'idle', action: 'none' })
          expect(result.reason).toMatch(/RFC 9615/)
        }
        expect((await lastSignal())?.reason).toMatch(
          new RegExp(`${SIGNALS} is delegated.*without a DS`),
        )
        // A DS at the parent for a key the operator's zone does not serve: the chain breaks there.
        const wrong = dsOfKey(SIGNAL_CHILD, 0)
        p.emulator.parentZone?.publication.record(SIGNALS, [wrong], Date.now() - 1_000)
        const { result } = await scan(SIGNAL_CHILD)
        expect(result).toMatchObject({ ok: true, phase: 'idle', action: 'none' })
        expect((await lastSignal())?.reason).toMatch(
          new RegExp(`no DNSKEY of ${SIGNALS} matches the DS that leads to it`),
        )
        expect(registryDs(SIGNAL_CHILD)).toEqual([])
      })

      it('stops when an authenticated signal names other keys than the zone, however often it is scanned', async () => {
        const ds = dsOfKey(SIGNALS, 0)
        p.emulator.account.dsRecords.set(SIGNALS, [ds])
        p.emulator.parentZone?.publication.record(SIGNALS, [ds], Date.now() - 1_000)
        await signalState(1)
        // Even with the repeated-scan fallback allowed, a contradiction is never overruled.
        expect(
          (await put(`/domains/${SIGNAL_CHILD}/dnssec`, { mode: 'cds', bootstrap: true })).status,
        ).toBe(200)
        for (let i = 0; i < 3; i++) {
          const { result } = await scan(SIGNAL_CHILD)
          expect(result).toMatchObject({ ok: true, action: 'refused' })
          expect(result.reason).toMatch(
            /bootstrapping stopped: the CDS signal at _dsboot\.signal-child\.com\._signal\.ns\d\.op-signals\.com .*differs/,
          )
        }
        expect(registryDs(SIGNAL_CHILD)).toEqual([])
      })

      it("bootstraps at once through the operator's authenticated signals, and says so", async () => {
        await signalState(0)
        expect(
          (
            await put(`/domains/${SIGNAL_CHILD}/dnssec`, {
              mode: 'cds',
              bootstrap: true,
              requireSignal: true,
            })
          ).status,
        ).toBe(200)
        // One scan: no waiting for repeated scans (DNSSEC_BOOTSTRAP_SCANS is 2).
        const { result } = await scan(SIGNAL_CHILD)
        expect(result).toMatchObject({ ok: true, phase: 'adding', action: 'submitted' })
        expect(await lastSignal()).toEqual({
          ok: true,
          names: SIGNAL_NAME_SERVERS.map((host) => `_dsboot.${SIGNAL_CHILD}._signal.${host}`),
        })
        const key = keys[SIGNAL_CHILD]?.[0] as ZoneKey
        const poller = p.pollerDeps()
        const deadline = Date.now() + 10_000
        while (JSON.stringify(registryDs(SIGNAL_CHILD)) !== JSON.stringify([child.dsOf(key)])) {
          if (Date.now() > deadline) throw new Error('the first DS was not added')
          await runPoller(poller, Date.now() + 300)
        }
        // Once the parent serves it, the bootstrapped DS validates the child's DNSKEY RRset.
        let served = await parentDs(SIGNAL_CHILD)
        while (served.length === 0) {
          if (Date.now() > deadline) throw new Error('the parent never served the first DS')
          await new Promise((resolve) => setTimeout(resolve, 100))
          served = await parentDs(SIGNAL_CHILD)
        }
        const chain = await scanZone(
          SIGNAL_CHILD,
          [{ host: '127.0.0.1', port: child.port }],
          (server, name, type) => queryServer(server, name, type),
          served,
          { nowSeconds: Math.floor(Date.now() / 1000), bootstrap: false },
        )
        expect(chain.ok, chain.ok ? '' : chain.reason).toBe(true)
        await p.drainUntil(() =>
          events().some(
            (event) => event.type === 'dnssec.ds.submitted' && event.data.domain === SIGNAL_CHILD,
          ),
        )
        const submitted = events().find(
          (event) => event.type === 'dnssec.ds.submitted' && event.data.domain === SIGNAL_CHILD,
        )
        expect(submitted?.data.bootstrap).toBe('signal')
      })
    })
  })
}
