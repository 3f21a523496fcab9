import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '#functions/api/app.ts'
import type { DsRecord } from '#shared/dns/dnskey.ts'
import type { ChangeSafety } from '#shared/tasks/change-safety.ts'
import { freePort } from './free-port.ts'
import { type Pipeline, startPipeline } from './pipeline.ts'
import { SAFETY_KEYS, SAFETY_SCENARIOS, SAFETY_ZONE, UNSIGNED_ZONE } from './safety-zones.ts'
import type { TestZone, ZoneKey } from './test-zone.ts'

/**
 * Safe by default, tried as a DNS operator would: a signed zone and an unsigned one on local
 * servers (BIND itself in `npm run test:interop`, its recorded answers in `npm test`), a second
 * provider serving the signed zone with the same keys and a third serving it unsigned. Each change
 * that would leave a validating resolver with no DS for a key the zone serves is refused with the
 * evidence, and nothing reaches the registry; the safe variant and the forced one are carried out.
 */

/** The new providers' name servers, pointed at local servers by DNS_SERVER_OVERRIDES. */
const SAME_KEYS_NS = ['ns1.same-keys-provider.test', 'ns2.same-keys-provider.test']
const UNSIGNED_NS = ['ns1.unsigned-provider.test', 'ns2.unsigned-provider.test']
/** A zone whose only server answers nothing (a port nobody listens on), and one served nowhere. */
const SILENT_ZONE = 'safety-silent.com'
const NOWHERE_ZONE = 'safety-nowhere.com'
const PREFLIGHT_TIMEOUT_MS = 1_000

type Problem = { type: string; status: number; detail: string; safety: ChangeSafety }

export function describePreflightSafety(
  title: string,
  makeZone: (zone: string, port: number) => TestZone,
): void {
  let p: Pipeline
  let signed: TestZone
  let sameKeys: TestZone
  let unsignedProvider: TestZone
  let unsignedZone: TestZone
  let keys: ZoneKey[]
  let ksk: DsRecord
  let stray: DsRecord

  beforeAll(async () => {
    const ports = {
      signed: await freePort(),
      sameKeys: await freePort(),
      unsignedProvider: await freePort(),
      unsignedZone: await freePort(),
      silent: await freePort(),
    }
    signed = makeZone(SAFETY_ZONE, ports.signed)
    sameKeys = makeZone(SAFETY_ZONE, ports.sameKeys)
    unsignedProvider = makeZone(SAFETY_ZONE, ports.unsignedProvider)
    unsignedZone = makeZone(UNSIGNED_ZONE, ports.unsignedZone)
    keys = SAFETY_SCENARIOS[SAFETY_ZONE].keys.map((isKsk) => signed.newKey(isKsk))
    const published = [keys[SAFETY_KEYS.ksk], keys[SAFETY_KEYS.zsk]] as ZoneKey[]
    sameKeys.adoptKeys(signed, published)
    signed.sign(published, [published[0] as ZoneKey])
    sameKeys.sign(published, [published[0] as ZoneKey])
    unsignedProvider.sign([], [])
    unsignedZone.sign([], [])
    await Promise.all([signed, sameKeys, unsignedProvider, unsignedZone].map((z) => z.serve()))
    ksk = signed.dsOf(keys[SAFETY_KEYS.ksk] as ZoneKey)
    stray = signed.dsOf(keys[SAFETY_KEYS.unpublished] as ZoneKey)
    p = await startPipeline({
      emulatorTaskMs: 30,
      env: {
        DNS_SERVER_OVERRIDES: JSON.stringify({
          [SAFETY_ZONE]: [`127.0.0.1:${ports.signed}`],
          [UNSIGNED_ZONE]: [`127.0.0.1:${ports.unsignedZone}`],
          [SILENT_ZONE]: [`127.0.0.1:${ports.silent}`],
          ...Object.fromEntries(SAME_KEYS_NS.map((ns) => [ns, [`127.0.0.1:${ports.sameKeys}`]])),
          ...Object.fromEntries(
            UNSIGNED_NS.map((ns) => [ns, [`127.0.0.1:${ports.unsignedProvider}`]]),
          ),
        }),
        CALLBACK_ALLOW_LOOPBACK: 'true',
        PREFLIGHT_TIMEOUT_MS: String(PREFLIGHT_TIMEOUT_MS),
      },
    })
  }, 60_000)
  afterAll(async () => {
    for (const zone of [signed, sameKeys, unsignedProvider, unsignedZone]) await zone?.close()
    await p?.closeAll()
  })

  /** The registry's DS set for a domain, as a test starts it. */
  const holds = (domain: string, records: readonly DsRecord[]) =>
    p.emulator.account.dsRecords.set(
      domain,
      records.map((ds) => ({ ...ds, digest: ds.digest.toUpperCase() })),
    )
  const registryDs = (domain: string) =>
    (p.emulator.account.dsRecords.get(domain) ?? []).map((ds) => ds.keyTag).sort((a, b) => a - b)
  const upstreamTasks = () => p.emulator.account.tasks.size
  const call = (method: string, path: string, body?: unknown) =>
    p.request(path, {
      method,
      key: p.tenant.key,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  const dsBody = (ds: DsRecord, extra: object = {}) => ({ ...ds, ...extra })
  const tasksOf = async (domain: string) =>
    ((await (await call('GET', `/tasks?domain=${domain}`)).json()) as { items: unknown[] }).items

  /** A refusal: 409 with the problem type and the evidence, nothing written, nothing sent. */
  async function expectRefused(
    response: Response,
    domain: string,
    before: Awaited<ReturnType<typeof snapshot>>,
    slug: 'unsafe-change' | 'unverified-change' = 'unsafe-change',
  ): Promise<ChangeSafety> {
    expect(response.status).toBe(409)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    const problem = (await response.json()) as Problem
    expect(problem.type).toBe(`/docs#problem-${slug}`)
    expect(problem.detail).toMatch(/nothing was written or sent/)
    expect(problem.detail).toMatch(/force/)
    // Nothing written: no task, no change, no claim on the domain, nothing sent.
    expect(await snapshot(domain)).toEqual(before)
    return problem.safety
  }
  async function snapshot(domain: string) {
    const [assignment, state, changes] = await Promise.all([
      p.deps.domainAssignments.get(domain),
      p.deps.domainStates.get(domain),
      call('GET', `/changes?domain=${domain}`).then((r) => r.json()),
    ])
    return {
      upstream: upstreamTasks(),
      tasks: (await tasksOf(domain)).length,
      assignment,
      state,
      changes,
    }
  }
  /** A 202 task, run until final: it succeeded and carries the verdict it was accepted with. */
  async function carriedOut(response: Response): Promise<ChangeSafety> {
    const body = (await response.json()) as { id: string; safety?: ChangeSafety }
    expect(response.status, JSON.stringify(body)).toBe(202)
    await p.settle([body.id])
    const task = (await (await call('GET', `/tasks/${body.id}`)).json()) as {
      status: string
      safety: ChangeSafety
    }
    expect(task.status).toBe('succeeded')
    expect(task.safety).toEqual(body.safety)
    return task.safety
  }

  describe(title, () => {
    beforeEach(() => {
      holds(SAFETY_ZONE, [])
      p.emulator.account.nameServers.delete(SAFETY_ZONE)
    })

    it('a first DS that matches no key the signed zone serves is refused with what each server serves; the matching DS and the forced one are carried out', async () => {
      const before = await snapshot(SAFETY_ZONE)
      const safety = await expectRefused(
        await call('POST', `/domains/${SAFETY_ZONE}/ds`, dsBody(stray)),
        SAFETY_ZONE,
        before,
      )
      expect(safety.verdict).toBe('unsafe')
      const [domain] = safety.domains
      expect(domain?.dsAfter.map((ds) => ds.keyTag)).toEqual([stray.keyTag])
      expect(domain?.servers).toEqual([
        expect.objectContaining({
          nameServer: SAFETY_ZONE,
          transport: 'tcp+udp',
          outcome: 'not-validated',
          signed: true,
          keys: expect.arrayContaining([
            { keyTag: ksk.keyTag, algorithm: 13, sep: true },
            expect.objectContaining({ sep: false }),
          ]),
        }),
      ])
      expect(registryDs(SAFETY_ZONE)).toEqual([])

      const safe = await carriedOut(await call('POST', `/domains/${SAFETY_ZONE}/ds`, dsBody(ksk)))
      expect(safe).toMatchObject({ verdict: 'safe' })
      expect(safe.forced).toBeUndefined()
      expect(safe.domains[0]?.servers[0]).toMatchObject({
        outcome: 'validates',
        validatedBy: ksk.keyTag,
      })
      holds(SAFETY_ZONE, [])
      const forced = await carriedOut(
        await call('POST', `/domains/${SAFETY_ZONE}/ds`, dsBody(stray, { force: true })),
      )
      expect(forced).toMatchObject({ verdict: 'unsafe', forced: true })
      expect(registryDs(SAFETY_ZONE)).toEqual([stray.keyTag])
      // The task's event carries the verdict and the force.
      await p.drainUntil(() =>
        p.receiver.received.some((request) => request.body.includes('"forced":true')),
      )
    })

    it('a DS for a key not yet served beside one that validates (a pre-publish) goes through', async () => {
      holds(SAFETY_ZONE, [ksk])
      const safety = await carriedOut(
        await call('POST', `/domains/${SAFETY_ZONE}/ds`, dsBody(stray)),
      )
      expect(safety.verdict).toBe('safe')
      expect(registryDs(SAFETY_ZONE)).toEqual([ksk.keyTag, stray.keyTag].sort((a, b) => a - b))
    })

    it('deleting the only DS that matches the served KSK while a stray DS remains is refused; ?force=true and the safe delete are carried out', async () => {
      holds(SAFETY_ZONE, [ksk, stray])
      const before = await snapshot(SAFETY_ZONE)
      const safety = await expectRefused(
        await call('DELETE', `/domains/${SAFETY_ZONE}/ds/${ksk.keyTag}`),
        SAFETY_ZONE,
        before,
      )
      expect(safety.domains[0]?.dsAfter.map((ds) => ds.keyTag)).toEqual([stray.keyTag])
      expect(registryDs(SAFETY_ZONE)).toHaveLength(2)
      const safe = await carriedOut(
        await call('DELETE', `/domains/${SAFETY_ZONE}/ds/${stray.keyTag}`),
      )
      expect(safe.verdict).toBe('safe')
      holds(SAFETY_ZONE, [ksk, stray])
      const forced = await carriedOut(
        await call('DELETE', `/domains/${SAFETY_ZONE}/ds/${ksk.keyTag}?force=true`),
      )
      expect(forced).toMatchObject({ verdict: 'unsafe', forced: true })
      expect(registryDs(SAFETY_ZONE)).toEqual([stray.keyTag])
    })

    it('removing the last DS is safe: the zone goes insecure, and the answer says so', async () => {
      holds(SAFETY_ZONE, [ksk])
      const safety = await carriedOut(
        await call('DELETE', `/domains/${SAFETY_ZONE}/ds/${ksk.keyTag}`),
      )
      expect(safety.verdict).toBe('insecure')
      expect(safety.reason).toMatch(/insecure/)
      expect(registryDs(SAFETY_ZONE)).toEqual([])
    })

    it('a desired DS set that drops the matching DS: the dry run shows the verdict, the PUT is refused, the safe set and the forced one are applied', async () => {
      holds(SAFETY_ZONE, [ksk])
      const before = await snapshot(SAFETY_ZONE)
      const plan = await call('PUT', `/domains/${SAFETY_ZONE}/ds?dryRun=true`, {
        records: [stray],
      })
      expect(plan.status).toBe(200)
      const planned = (await plan.json()) as { safety: ChangeSafety }
      expect(planned.safety.verdict).toBe('unsafe')
      await expectRefused(
        await call('PUT', `/domains/${SAFETY_ZONE}/ds`, { records: [stray] }),
        SAFETY_ZONE,
        before,
      )
      expect(
        (await (await call('GET', `/changes?domain=${SAFETY_ZONE}`)).json()) as { items: [] },
      ).toMatchObject({ items: [] })

      const apply = async (body: object) => {
        const response = await call('PUT', `/domains/${SAFETY_ZONE}/ds`, body)
        const change = (await response.json()) as { id: string; steps: string[] }
        expect(response.status, JSON.stringify(change)).toBe(202)
        await p.settle(change.steps)
        await p.drainUntil(async () => {
          const now = (await (await call('GET', `/changes/${change.id}`)).json()) as {
            done: boolean
          }
          return now.done
        })
        return (await (await call('GET', `/changes/${change.id}`)).json()) as {
          id: string
          status: string
          safety: ChangeSafety
        }
      }
      const safe = await apply({ records: [ksk, stray] })
      expect(safe).toMatchObject({ status: 'succeeded', safety: { verdict: 'safe' } })
      const forced = await apply({ records: [stray], force: true })
      expect(forced).toMatchObject({
        status: 'succeeded',
        safety: { verdict: 'unsafe', forced: true },
      })
      // The change's event carries the verdict and the force.
      await p.drainUntil(() =>
        p.receiver.received.some((request) => {
          const event = JSON.parse(request.body) as {
            type: string
            data: { id: string; safety?: ChangeSafety }
          }
          return (
            event.type === 'change.succeeded' &&
            event.data.id === forced.id &&
            event.data.safety?.forced === true
          )
        }),
      )
      expect(registryDs(SAFETY_ZONE)).toEqual([stray.keyTag])
    })

    it('a DS for a zone its servers serve unsigned is refused; forced, it is carried out', async () => {
      holds(UNSIGNED_ZONE, [])
      const before = await snapshot(UNSIGNED_ZONE)
      const safety = await expectRefused(
        await call('POST', `/domains/${UNSIGNED_ZONE}/ds`, dsBody(ksk)),
        UNSIGNED_ZONE,
        before,
      )
      expect(safety.domains[0]?.servers[0]).toMatchObject({
        outcome: 'not-validated',
        keys: [],
        signed: false,
        problem: expect.stringMatching(/unsigned/),
      })
      const forced = await carriedOut(
        await call('POST', `/domains/${UNSIGNED_ZONE}/ds`, dsBody(ksk, { force: true })),
      )
      expect(forced).toMatchObject({ verdict: 'unsafe', forced: true })
    })

    it('moving a domain with a DS to name servers that serve it unsigned is refused (batch and desired state); to servers with the same keys it goes through; forced, it is carried out', async () => {
      holds(SAFETY_ZONE, [ksk])
      const before = await snapshot(SAFETY_ZONE)
      const move = (nameServers: string[], extra: object = {}) =>
        call('POST', '/dns-batch', {
          domains: [SAFETY_ZONE],
          aliyunDns: false,
          nameServers,
          ...extra,
        })
      const safety = await expectRefused(
        await move([UNSIGNED_NS[0], SAME_KEYS_NS[0]] as string[]),
        SAFETY_ZONE,
        before,
      )
      expect(safety.verdict).toBe('unsafe')
      expect(safety.domains[0]?.servers).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ nameServer: UNSIGNED_NS[0], outcome: 'not-validated' }),
          expect.objectContaining({ nameServer: SAME_KEYS_NS[0], outcome: 'validates' }),
        ]),
      )
      await expectRefused(
        await call('PUT', `/domains/${SAFETY_ZONE}/name-servers`, {
          aliyunDns: false,
          nameServers: UNSIGNED_NS,
        }),
        SAFETY_ZONE,
        before,
      )
      const safe = await carriedOut(await move(SAME_KEYS_NS))
      expect(safe.verdict).toBe('safe')
      expect(p.emulator.account.nameServersOf(SAFETY_ZONE)).toEqual(SAME_KEYS_NS)
      const forced = await carriedOut(await move(UNSIGNED_NS, { force: true }))
      expect(forced).toMatchObject({ verdict: 'unsafe', forced: true })
      expect(p.emulator.account.nameServersOf(SAFETY_ZONE)).toEqual(UNSIGNED_NS)
    })

    it('a domain without a DS may move anywhere: nothing to validate, the verdict is insecure', async () => {
      const safety = await carriedOut(
        await call('POST', '/dns-batch', {
          domains: [SAFETY_ZONE],
          aliyunDns: false,
          nameServers: UNSIGNED_NS,
        }),
      )
      expect(safety).toMatchObject({ verdict: 'insecure' })
      expect(safety.domains[0]?.servers).toEqual([])
    })

    it('servers that cannot be asked: unverified, carried out and recorded under PREFLIGHT_UNVERIFIED=proceed, refused under refuse; bounded in time', async () => {
      const refusing = createApp({
        ...p.deps,
        preflight: {
          ...p.deps.preflight,
          settings: { ...p.deps.preflight.settings, unverified: 'refuse' },
        },
      })
      const viaRefusing = (path: string, body: unknown) =>
        refusing.request(`http://gateway.test${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${p.tenant.key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      for (const [domain, reason] of [
        [SILENT_ZONE, /over TCP: connect ECONNREFUSED.*no answer from .* within/],
        [NOWHERE_ZONE, /DNS_SERVER_OVERRIDES/],
      ] as const) {
        const before = await snapshot(domain)
        const started = Date.now()
        const safety = await expectRefused(
          await viaRefusing(`/domains/${domain}/ds`, dsBody(ksk)),
          domain,
          before,
          'unverified-change',
        )
        // One domain's check is bounded: the deadline, a query's last wait, and slack for a busy machine.
        expect(Date.now() - started).toBeLessThan(PREFLIGHT_TIMEOUT_MS + 4_000)
        expect(safety).toMatchObject({ verdict: 'unverified' })
        expect(safety.reason).toMatch(reason)
        const recorded = await carriedOut(await call('POST', `/domains/${domain}/ds`, dsBody(ksk)))
        expect(recorded).toMatchObject({ verdict: 'unverified' })
        expect(recorded.forced).toBeUndefined()
        const forced = await carriedOut(
          await viaRefusing(`/domains/${domain}/ds`, dsBody(stray, { force: true })),
        )
        expect(forced).toMatchObject({ verdict: 'unverified', forced: true })
      }
    })

    it('suggests the DS records a zone asks for (its CDS), and nothing for a zone served unsigned', async () => {
      const suggested = await (await call('GET', `/domains/${SAFETY_ZONE}/ds/suggested`)).json()
      expect(suggested).toMatchObject({ domain: SAFETY_ZONE, source: 'cds', records: [ksk] })
      // What it suggests is safe to add as the first DS.
      await carriedOut(
        await call(
          'POST',
          `/domains/${SAFETY_ZONE}/ds`,
          dsBody((suggested as { records: DsRecord[] }).records[0] as DsRecord),
        ),
      )
      const unsigned = await (await call('GET', `/domains/${UNSIGNED_ZONE}/ds/suggested`)).json()
      expect(unsigned).toMatchObject({
        source: 'none',
        records: [],
        reason: expect.stringMatching(/unsigned/),
      })
    })

    it('a check that cannot read the registry refuses the desired state and gives its claim back', async () => {
      const domain = 'unregistered-safety.com'
      const before = await snapshot(domain)
      const response = await call('PUT', `/domains/${domain}/name-servers`, {
        aliyunDns: false,
        nameServers: SAME_KEYS_NS,
      })
      expect(response.status).toBe(422)
      expect(await response.json()).toMatchObject({ upstreamCode: 'DomainNotExist' })
      expect(await snapshot(domain)).toEqual(before)
      expect(before.assignment).toBeUndefined()
    })

    it('a refusal leaves its Idempotency-Key free: the forced request may take it, its retry is replayed, and the unforced one is another request', async () => {
      const send = (body: object) =>
        p.request(`/domains/${SAFETY_ZONE}/ds`, {
          method: 'POST',
          key: p.tenant.key,
          headers: { 'idempotency-key': 'safety-retry' },
          body: JSON.stringify(body),
        })
      expect((await send(dsBody(stray))).status).toBe(409)
      const forced = await send(dsBody(stray, { force: true }))
      expect(forced.status).toBe(202)
      const again = await send(dsBody(stray, { force: true }))
      expect(again.status).toBe(202)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
      expect(await again.json()).toEqual(await forced.json())
      expect((await send(dsBody(stray))).status).toBe(422)
    })
  })
}
