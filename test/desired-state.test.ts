import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildDriftDeps } from '#functions/drift/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { runDriftCheck } from '#shared/desired/check-drift.ts'
import { silentLogger } from '#shared/logger.ts'
import { upstreamTasksFor } from './helpers/emulator.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

let p: Pipeline
beforeAll(async () => {
  p = await startPipeline({ emulatorTaskMs: 30 })
})
afterAll(() => p.closeAll())
beforeEach(() => {
  p.receiver.reply = () => ({ status: 204 })
  p.emulator.faults.set([])
})

const digest = (fill: string) => fill.repeat(64)
const K1 = { keyTag: 11111, algorithm: 13, digestType: 2, digest: digest('a') }
const K2 = { keyTag: 22222, algorithm: 13, digestType: 2, digest: digest('b') }
const K3 = { keyTag: 33333, algorithm: 13, digestType: 2, digest: digest('c') }

const put = (path: string, body: unknown, key = p.tenant.key) =>
  p.request(path, { method: 'PUT', key, body: JSON.stringify(body) })
// biome-ignore lint/suspicious/noExplicitAny: the tests read answers' JSON loosely
const json = async (response: Response) => (await response.json()) as Record<string, any>
const upstreamFor = (domain: string) => upstreamTasksFor(p.emulator, domain)
/** The registry's DS records of a domain (it keeps digests upper-case), digests lower-cased. */
const registryDs = (domain: string) =>
  (p.emulator.account.dsRecords.get(domain) ?? [])
    .map((record) => ({ ...record, digest: record.digest.toLowerCase() }))
    .sort((a, b) => a.keyTag - b.keyTag)
const changeOf = async (id: string) =>
  json(await p.request(`/changes/${id}`, { key: p.tenant.key }))
const changeDone = (id: string) => async () => (await changeOf(id)).done === true
const eventsOf = (type: string) =>
  p.receiver.received
    .map((request) => p.receiver.verify(request, p.tenant.webhookSecret))
    .filter((event) => event.type === type)

function driftDeps() {
  const base = buildDriftDeps(loadSettings(p.env), {
    logger: silentLogger,
  })
  return { ...base, settings: p.deps.settings, changeRecheckMs: 50 }
}

describe('desired-state DS records', () => {
  it('a dry run plans by content (digests case-insensitive) and changes nothing upstream', async () => {
    p.emulator.account.dsRecords.set('plan.com', [K1, K2])
    const before = p.emulator.account.tasks.size
    const response = await put('/domains/plan.com/ds?dryRun=true', {
      records: [{ ...K2, digest: K2.digest.toUpperCase() }, K3],
    })
    expect(response.status).toBe(200)
    // The plan, and the pre-flight verdict of its end state (plan.com is served nowhere here).
    expect(await json(response)).toEqual({
      plan: { add: [K3], remove: [K1], keep: [K2] },
      safety: expect.objectContaining({ verdict: 'unverified' }),
    })
    expect(p.emulator.account.tasks.size).toBe(before)
    const drift = await p.request('/domains/plan.com/drift', { key: p.tenant.key })
    expect(drift.status).toBe(404)
  })

  it('a KSK rollover in one PUT: the new DS is added before the old one is removed, one change webhook', async () => {
    p.emulator.account.dsRecords.set('rollover.com', [K1])
    const response = await put('/domains/rollover.com/ds', { records: [K2] })
    expect(response.status).toBe(202)
    const change = await json(response)
    expect(response.headers.get('location')).toBe(`/changes/${change.id}`)
    expect(change).toMatchObject({
      id: expect.stringMatching(/^chg_/),
      status: 'running',
      plan: { add: [K2], remove: [K1], keep: [] },
    })
    expect(change.steps).toHaveLength(2)
    await p.drainUntil(changeDone(change.id))
    const done = await changeOf(change.id)
    expect(done).toMatchObject({ status: 'succeeded' })
    expect(done.progress.map((step: { action: string }) => step.action)).toEqual([
      'ds.add',
      'ds.delete',
    ])
    const [add, remove] = upstreamFor('rollover.com')
    expect(add?.kind.type).toBe('addDs')
    expect(remove?.kind.type).toBe('deleteDs')
    // The delete was sent only after the add had finished at the registry.
    expect(remove!.createdAt - add!.createdAt).toBeGreaterThanOrEqual(30)
    expect(registryDs('rollover.com')).toEqual([K2])
    await p.drainUntil(() => eventsOf('change.succeeded').some((e) => e.data.id === change.id))
    expect(eventsOf('change.succeeded').filter((e) => e.data.id === change.id)).toHaveLength(1)
    // Applied: the domain's drift is now measured against it.
    const drift = await json(await p.request('/domains/rollover.com/drift', { key: p.tenant.key }))
    expect(drift).toMatchObject({ inSync: true, ds: { missing: [], unexpected: [] } })
  })

  it('a failed add stops the change: no remove runs, the registry keeps what it had', async () => {
    // Every registry task for a domain whose first label starts with "fail" fails.
    p.emulator.account.dsRecords.set('fail-rollover.com', [K1])
    const change = await json(await put('/domains/fail-rollover.com/ds', { records: [K2] }))
    await p.drainUntil(changeDone(change.id))
    const done = await changeOf(change.id)
    expect(done.status).toBe('failed')
    expect(done.progress.map((step: { status: string }) => step.status)).toEqual([
      'failed',
      'rejected',
    ])
    expect(done.progress[1].error.code).toBe('ChangeStopped')
    expect(upstreamFor('fail-rollover.com').map((task) => task.kind.type)).toEqual(['addDs'])
    expect(registryDs('fail-rollover.com')).toEqual([K1])
    await p.drainUntil(() => eventsOf('change.failed').some((e) => e.data.id === change.id))
  })

  it('an empty list removes every DS record only with allowEmpty', async () => {
    p.emulator.account.dsRecords.set('dnssec-off.com', [K1, K2])
    const refused = await put('/domains/dnssec-off.com/ds', { records: [] })
    expect(refused.status).toBe(422)
    expect(await json(refused)).toMatchObject({ type: '/docs#problem-invalid-request' })
    const change = await json(
      await put('/domains/dnssec-off.com/ds', { records: [], allowEmpty: true }),
    )
    expect(change.plan).toEqual({ add: [], remove: [K1, K2], keep: [] })
    await p.drainUntil(changeDone(change.id))
    expect(registryDs('dnssec-off.com')).toEqual([])
  })

  it('a DNSKEY is turned into its DS; a duplicate record is refused', async () => {
    const dnskey =
      '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=='
    const plan = await json(
      await put('/domains/dnskey.com/ds?dryRun=true', { records: [{ dnskey }] }),
    )
    expect(plan.plan.add).toHaveLength(1)
    expect(plan.plan.add[0]).toMatchObject({ algorithm: 13, digestType: 2 })
    const twice = await put('/domains/dnskey.com/ds?dryRun=true', { records: [K1, K1] })
    expect(twice.status).toBe(422)
  })

  it('two changes back to back: the second is planned after the first and runs after it', async () => {
    p.emulator.account.dsRecords.set('back-to-back.com', [K1])
    const first = await json(await put('/domains/back-to-back.com/ds', { records: [K1, K2] }))
    const second = await json(await put('/domains/back-to-back.com/ds', { records: [K2, K3] }))
    // Planned against the first's desired state, not the registry of the moment.
    expect(second.plan).toEqual({ add: [K3], remove: [K1], keep: [K2] })
    await p.drainUntil(async () => (await changeDone(first.id)()) && changeDone(second.id)())
    expect((await changeOf(first.id)).status).toBe('succeeded')
    expect((await changeOf(second.id)).status).toBe('succeeded')
    expect(registryDs('back-to-back.com')).toEqual([K2, K3])
  })

  it('tenants are isolated: another tenant gets 404 for the change and the drift, 409 on PUT', async () => {
    const change = await json(await put('/domains/isolated.com/ds', { records: [K1] }))
    const other = await p.newKey('other', ['ds:write', 'tasks:read'])
    expect((await p.request(`/changes/${change.id}`, { key: other.key })).status).toBe(404)
    await p.drainUntil(changeDone(change.id))
    expect((await p.request('/domains/isolated.com/drift', { key: other.key })).status).toBe(404)
    const taken = await put('/domains/isolated.com/ds', { records: [K2] }, other.key)
    expect(taken.status).toBe(409)
    // A key without ds:write may not PUT at all.
    const reader = await p.newKey('pipeline', ['tasks:read'])
    expect((await put('/domains/isolated.com/ds', { records: [K1] }, reader.key)).status).toBe(403)
  })
})

describe('desired-state name servers', () => {
  it('plans against QueryDomainByDomainName, applies in one step, and an applied state plans nothing', async () => {
    const servers = ['ns1.example.net', 'ns2.example.net']
    // The domain's DNS is on Alibaba Cloud DNS to begin with.
    p.emulator.account.nameServers.set('ns-state.com', ['dns1.hichina.com', 'dns2.hichina.com'])
    const plan = await json(
      await put('/domains/ns-state.com/name-servers?dryRun=true', {
        aliyunDns: false,
        nameServers: servers,
      }),
    )
    expect(plan.plan).toMatchObject({
      current: { aliyunDns: true, nameServers: ['dns1.hichina.com', 'dns2.hichina.com'] },
      add: servers,
      remove: ['dns1.hichina.com', 'dns2.hichina.com'],
      change: true,
    })
    const change = await json(
      await put('/domains/ns-state.com/name-servers', { aliyunDns: false, nameServers: servers }),
    )
    await p.drainUntil(changeDone(change.id))
    expect((await changeOf(change.id)).status).toBe('succeeded')
    expect(p.emulator.account.nameServersOf('ns-state.com')).toEqual(servers)
    const again = await json(
      await put('/domains/ns-state.com/name-servers', { aliyunDns: false, nameServers: servers }),
    )
    expect(again).toMatchObject({ status: 'succeeded', steps: [], plan: { change: false } })
  })
})

describe('drift', () => {
  it('is reported once when the registry drifts, and once when it returns', async () => {
    const change = await json(await put('/domains/drifting.com/ds', { records: [K1] }))
    await p.drainUntil(changeDone(change.id))
    p.emulator.account.dsRecords.set('drifting.com', [K1, K3])
    const report = await json(await p.request('/domains/drifting.com/drift', { key: p.tenant.key }))
    expect(report).toMatchObject({ inSync: false, ds: { missing: [], unexpected: [K3] } })
    const deps = driftDeps()
    await runDriftCheck(deps)
    await runDriftCheck(deps)
    await p.drainUntil(() =>
      eventsOf('domain.drifted').some((e) => e.data.domain === 'drifting.com'),
    )
    p.emulator.account.dsRecords.set('drifting.com', [K1])
    await runDriftCheck(deps)
    await runDriftCheck(deps)
    await p.drainUntil(() =>
      eventsOf('domain.in_sync').some((e) => e.data.domain === 'drifting.com'),
    )
    const mine = (type: string) => eventsOf(type).filter((e) => e.data.domain === 'drifting.com')
    expect(mine('domain.drifted')).toHaveLength(1)
    expect(mine('domain.in_sync')).toHaveLength(1)
  })

  it('is repaired when the desired state asks for it', async () => {
    const change = await json(
      await put('/domains/repaired.com/ds', { records: [K1], repair: true }),
    )
    await p.drainUntil(changeDone(change.id))
    p.emulator.account.dsRecords.set('repaired.com', [K2])
    const deps = driftDeps()
    const stats = await runDriftCheck(deps)
    expect(stats).toMatchObject({ drifted: 1, repairs: 1 })
    await p.drainUntil(() =>
      eventsOf('change.succeeded').some(
        (e) => e.data.domain === 'repaired.com' && e.data.trigger === 'repair',
      ),
    )
    expect(registryDs('repaired.com')).toEqual([K1])
    await runDriftCheck(deps)
    await p.drainUntil(() =>
      eventsOf('domain.in_sync').some((e) => e.data.domain === 'repaired.com'),
    )
  })
})
