import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { upstreamTasksFor } from './helpers/emulator.ts'
import { ADMIN_KEY, ALL_SCOPES, type Harness, startHarness } from './helpers/gateway.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

/**
 * A domain has one managing tenant, assigned by the admin (or, under TENANT_SCOPES=open, claimed
 * by the first desired-state write): only its keys set the domain's desired state and DNSSEC
 * automation; tenants it is shared with may submit changes; every other tenant's write is refused
 * with 409 and reaches nothing upstream. Each finding of issue 22 on ownership has a case here
 * (each answered 202 or 200 before domains had managers).
 */
let h: Pipeline
let strict: Harness
let alpha: string
let bravo: string
let charlie: string
beforeAll(async () => {
  h = await startPipeline({ emulatorTaskMs: 30 })
  strict = await startHarness({ emulatorTaskMs: 30, env: { TENANT_SCOPES: 'strict' } })
  alpha = h.key
  bravo = (await h.newKey('bravo', ALL_SCOPES)).key
  charlie = (await h.newKey('charlie', ALL_SCOPES)).key
})
afterAll(async () => {
  await h.closeAll()
  await strict.close()
})

const call = (harness: Harness, method: string, path: string, key: string, body?: unknown) =>
  harness.request(path, {
    method,
    key,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
// biome-ignore lint/suspicious/noExplicitAny: the tests read answers' JSON loosely
const json = async (response: Response) => (await response.json()) as Record<string, any>
const ds = (keyTag: number) => ({
  keyTag,
  algorithm: 13,
  digestType: 2,
  digest: keyTag.toString(16).padStart(64, 'c'),
})
const upstreamKinds = (harness: Harness, domain: string) =>
  upstreamTasksFor(harness.emulator, domain).map((task) => task.kind.type)

/** Runs the poller until the change a `PUT` answered with is done (its desired state applied). */
async function untilApplied(answer: Response, key: string): Promise<void> {
  const { id } = await json(answer)
  await h.drainUntil(
    async () => (await json(await call(h, 'GET', `/changes/${id}`, key))).done === true,
  )
}

/** Every write another tenant could make to the domain, and what it answered. */
async function writesOf(harness: Harness, key: string, domain: string) {
  const answers = await Promise.all([
    call(harness, 'POST', `/domains/${domain}/ds`, key, ds(4242)),
    call(harness, 'DELETE', `/domains/${domain}/ds/4242`, key),
    call(harness, 'POST', `/domains/${domain}/ds/sync`, key, {}),
    call(harness, 'POST', '/dns-batch', key, {
      domains: [domain, 'free-1.com'],
      aliyunDns: false,
      nameServers: ['ns1.example-dns.net', 'ns2.example-dns.net'],
    }),
    call(harness, 'PUT', `/domains/${domain}/ds`, key, { records: [ds(5151)] }),
    call(harness, 'PUT', `/domains/${domain}/name-servers`, key, { aliyunDns: true }),
    call(harness, 'PUT', `/domains/${domain}/dnssec`, key, { mode: 'off' }),
  ])
  return answers.map((answer) => answer.status)
}

describe('managing tenants', () => {
  it("a domain whose desired state one tenant applied refuses every other tenant's write; nothing of theirs reaches Alibaba", async () => {
    const domain = 'own-1.com'
    const applied = await call(h, 'PUT', `/domains/${domain}/ds`, alpha, { records: [ds(1001)] })
    expect(applied.status).toBe(202)
    await untilApplied(applied, alpha)
    const before = upstreamKinds(h, domain)
    expect(before).toEqual(['addDs'])
    // The first write claimed the domain for its tenant (TENANT_SCOPES=open).
    const assignment = await json(await call(h, 'GET', `/admin/domains/${domain}`, ADMIN_KEY))
    expect(assignment).toMatchObject({
      manager: 'alpha',
      sharedWith: [],
      assignedBy: 'first-write',
    })

    expect(await writesOf(h, bravo, domain)).toEqual([409, 409, 409, 409, 409, 409, 409])
    expect(upstreamKinds(h, domain)).toEqual(before)
    expect(upstreamKinds(h, 'free-1.com')).toEqual([])
    const tasks = await json(await call(h, 'GET', `/tasks?domain=${domain}`, bravo))
    expect(tasks.items).toEqual([])
    // Nor does it read the desired state or the enrolment.
    expect((await call(h, 'GET', `/domains/${domain}/drift`, bravo)).status).toBe(404)
    // The manager still can.
    const own = await call(h, 'POST', `/domains/${domain}/ds`, alpha, ds(1002))
    expect(own.status).toBe(202)
  })

  it('DNSSEC enrolment and desired state have one manager: another tenant cannot take the domain over between them', async () => {
    const domain = 'own-2.com'
    expect((await call(h, 'PUT', `/domains/${domain}/dnssec`, alpha, { mode: 'off' })).status).toBe(
      200,
    )
    const taken = await call(h, 'PUT', `/domains/${domain}/ds`, bravo, { records: [ds(2001)] })
    expect(taken.status).toBe(409)
    expect((await json(taken)).detail).toMatch(/managed by another tenant/)
    expect(upstreamKinds(h, domain)).toEqual([])
    // The enrolled tenant is not locked out of its own domain.
    expect((await call(h, 'PUT', `/domains/${domain}/dnssec`, alpha, { mode: 'off' })).status).toBe(
      200,
    )
    expect(
      (await call(h, 'PUT', `/domains/${domain}/ds`, alpha, { records: [ds(2002)] })).status,
    ).toBe(202)
  })

  it('the admin assigns a domain and shares it: the manager manages, a shared tenant submits and reads, nobody else writes', async () => {
    const domain = 'own-3.com'
    const assigned = await call(h, 'PUT', `/admin/domains/${domain}`, ADMIN_KEY, {
      manager: 'alpha',
      sharedWith: ['bravo', 'bravo', 'alpha'],
    })
    expect(assigned.status).toBe(200)
    expect(await json(assigned)).toMatchObject({
      domain,
      manager: 'alpha',
      sharedWith: ['bravo'],
      assignedBy: 'admin',
    })
    // A tenant it is shared with submits changes, but does not manage the desired state.
    const shared = await writesOf(h, bravo, domain)
    expect(shared.slice(0, 4)).toEqual([202, 202, 202, 202])
    expect(shared.slice(4)).toEqual([409, 409, 409])
    // Nobody else writes.
    expect(await writesOf(h, charlie, domain)).toEqual([409, 409, 409, 409, 409, 409, 409])
    // The shared tenant's changes finish first: a plan made while they run could meet a registry
    // they changed meanwhile (a remove of a record already gone fails the change, as it should).
    await h.drainUntil(async () => {
      const { items } = await json(await call(h, 'GET', `/tasks?domain=${domain}`, bravo))
      return (items as { status: string }[]).every((task) =>
        ['succeeded', 'failed', 'partially_failed', 'rejected', 'unknown'].includes(task.status),
      )
    })
    const applied = await call(h, 'PUT', `/domains/${domain}/ds`, alpha, { records: [ds(3001)] })
    expect(applied.status).toBe(202)
    const { id } = await json(applied.clone())
    await untilApplied(applied, alpha)
    expect((await json(await call(h, 'GET', `/changes/${id}`, alpha))).status).toBe('succeeded')
    // The shared tenant reads the manager's desired state; the others do not see it.
    expect((await call(h, 'GET', `/domains/${domain}/drift`, bravo)).status).toBe(200)
    expect((await call(h, 'GET', `/domains/${domain}/drift`, charlie)).status).toBe(404)
  })

  it('the admin reassigns a domain: the former manager loses it, the new one takes its desired state over at its next write', async () => {
    const domain = 'own-4.com'
    const first = await call(h, 'PUT', `/domains/${domain}/ds`, alpha, { records: [ds(4001)] })
    expect(first.status).toBe(202)
    await untilApplied(first, alpha)
    expect((await call(h, 'PUT', `/domains/${domain}/dnssec`, alpha, { mode: 'off' })).status).toBe(
      200,
    )
    const moved = await call(h, 'PUT', `/admin/domains/${domain}`, ADMIN_KEY, { manager: 'bravo' })
    expect(moved.status).toBe(200)

    expect(
      (await call(h, 'PUT', `/domains/${domain}/ds`, alpha, { records: [ds(4002)] })).status,
    ).toBe(409)
    expect((await call(h, 'POST', `/domains/${domain}/ds`, alpha, ds(4003))).status).toBe(409)
    expect((await call(h, 'GET', `/domains/${domain}/drift`, alpha)).status).toBe(404)
    expect((await call(h, 'GET', `/domains/${domain}/dnssec`, alpha)).status).toBe(404)
    // The new manager sees what the old one applied, and takes it over.
    expect((await call(h, 'GET', `/domains/${domain}/drift`, bravo)).status).toBe(200)
    const taken = await call(h, 'PUT', `/domains/${domain}/ds`, bravo, {
      records: [ds(4001), ds(4004)],
    })
    expect(taken.status).toBe(202)
    expect((await json(taken)).plan).toMatchObject({
      add: [expect.objectContaining({ keyTag: 4004 })],
    })
    expect((await h.deps.domainStates.get(domain))?.tenant).toBe('bravo')
    expect((await call(h, 'PUT', `/domains/${domain}/dnssec`, bravo, { mode: 'off' })).status).toBe(
      200,
    )
    expect((await h.deps.dnssecStates.get(domain))?.tenant).toBe('bravo')
  })

  it('two tenants racing their first desired-state write to a domain: one manages it, the other gets 409', async () => {
    const domains = Array.from({ length: 10 }, (_, i) => `claim-${i}.com`)
    for (const domain of domains) {
      const [a, b] = await Promise.all([
        call(h, 'PUT', `/domains/${domain}/ds`, alpha, { records: [ds(6001)] }),
        call(h, 'PUT', `/domains/${domain}/dnssec`, bravo, { mode: 'off' }),
      ])
      expect([a.status, b.status].sort()).toEqual(a.status === 202 ? [202, 409] : [200, 409])
      const winner = a.status === 202 ? 'alpha' : 'bravo'
      const assignment = await json(await call(h, 'GET', `/admin/domains/${domain}`, ADMIN_KEY))
      expect(assignment.manager).toBe(winner)
    }
  })

  it('a dry run claims nothing; unassigning under open mode lets the holder claim it again', async () => {
    const domain = 'own-5.com'
    const dry = await call(h, 'PUT', `/domains/${domain}/ds?dryRun=true`, alpha, {
      records: [ds(5001)],
    })
    expect(dry.status).toBe(200)
    expect((await call(h, 'GET', `/admin/domains/${domain}`, ADMIN_KEY)).status).toBe(404)
    expect((await call(h, 'PUT', `/domains/${domain}/dnssec`, alpha, { mode: 'off' })).status).toBe(
      200,
    )
    expect((await call(h, 'DELETE', `/admin/domains/${domain}`, ADMIN_KEY)).status).toBe(204)
    expect((await call(h, 'DELETE', `/admin/domains/${domain}`, ADMIN_KEY)).status).toBe(404)
    // The holder of the enrolment still manages it; another tenant still may not.
    expect((await call(h, 'PUT', `/domains/${domain}/dnssec`, bravo, { mode: 'off' })).status).toBe(
      409,
    )
    expect((await call(h, 'PUT', `/domains/${domain}/dnssec`, alpha, { mode: 'off' })).status).toBe(
      200,
    )
    expect((await json(await call(h, 'GET', `/admin/domains/${domain}`, ADMIN_KEY))).manager).toBe(
      'alpha',
    )
  })

  it('under TENANT_SCOPES=strict nobody manages a domain until the admin assigns it', async () => {
    const domain = 'strict-1.com'
    await call(strict, 'PUT', '/admin/tenants/alpha', ADMIN_KEY, { domains: ['*'] })
    const refused = await call(strict, 'PUT', `/domains/${domain}/ds`, strict.key, {
      records: [ds(7001)],
    })
    expect(refused.status).toBe(409)
    expect((await json(refused)).detail).toMatch(/No tenant has been assigned/)
    expect(
      (await call(strict, 'PUT', `/domains/${domain}/dnssec`, strict.key, { mode: 'off' })).status,
    ).toBe(409)
    expect((await call(strict, 'GET', `/admin/domains/${domain}`, ADMIN_KEY)).status).toBe(404)
    expect(upstreamKinds(strict, domain)).toEqual([])
    // Submissions are bound by the scope alone.
    expect((await call(strict, 'POST', `/domains/${domain}/ds`, strict.key, ds(7002))).status).toBe(
      202,
    )
    await call(strict, 'PUT', `/admin/domains/${domain}`, ADMIN_KEY, { manager: 'alpha' })
    expect(
      (await call(strict, 'PUT', `/domains/${domain}/ds`, strict.key, { records: [ds(7001)] }))
        .status,
    ).toBe(202)
  })

  it('the admin API validates assignments and answers 401 to a tenant key', async () => {
    const bad = [
      { manager: 'system' },
      { manager: 'Upper' },
      { manager: 'alpha', sharedWith: ['system'] },
      { manager: 'alpha', extra: true },
      {},
    ]
    for (const body of bad) {
      const answer = await call(h, 'PUT', '/admin/domains/valid.com', ADMIN_KEY, body)
      expect(answer.status, JSON.stringify(body)).toBe(422)
      expect(answer.headers.get('content-type')).toMatch(/problem\+json/)
    }
    expect(
      (await call(h, 'PUT', '/admin/domains/not_a_domain!', ADMIN_KEY, { manager: 'alpha' }))
        .status,
    ).toBe(422)
    expect(
      (await call(h, 'PUT', '/admin/domains/valid.com', alpha, { manager: 'alpha' })).status,
    ).toBe(401)
    expect((await call(h, 'GET', '/admin/domains/valid.com', ADMIN_KEY)).status).toBe(404)
  })
})
