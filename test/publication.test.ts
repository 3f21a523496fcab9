import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryServer } from '#shared/dns/dns-client.ts'
import type { Metrics } from '#shared/metrics.ts'
import { freePort } from './helpers/free-port.ts'
import { parentDs } from './helpers/parent-ds.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

/**
 * Done means published: a registry task that succeeded is followed at the parent zone (the
 * emulator's, which serves each DS set and delegation 400 ms after its task) until every parent
 * server serves the change; the task and the change get `publishedAt` and a `publication.served`
 * event goes out. A parent that never serves it gives `publication.late` and a metric.
 */

const RECORD = {
  keyTag: 2371,
  algorithm: 13,
  digestType: 2,
  digest: 'f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598',
}
const PUBLISH_DELAY_MS = 400

interface TaskView {
  id: string
  status: string
  completedAt?: string
  publishedAt?: string
}

const events = (p: Pipeline) =>
  p.receiver.received.map(
    (request) =>
      p.receiver.verify(request, p.tenant.webhookSecret) as {
        type: string
        data: Record<string, unknown>
      },
  )

describe('done means published: following the parent zone', () => {
  let p: Pipeline
  let parentPort: number

  beforeAll(async () => {
    parentPort = await freePort()
    p = await startPipeline({
      emulatorTaskMs: 30,
      parentZone: { port: parentPort, publishDelayMs: PUBLISH_DELAY_MS, dsTtlSeconds: 1 },
      env: {
        DNS_SERVER_OVERRIDES: JSON.stringify({ com: [`127.0.0.1:${parentPort}`] }),
        PUBLICATION_CHECK_SECONDS: '0.1',
        PUBLICATION_TIMEOUT_MINUTES: '10',
      },
    })
  }, 30_000)
  afterAll(async () => p?.closeAll())

  const task = async (id: string) =>
    (await (await p.request(`/tasks/${id}`, { key: p.tenant.key })).json()) as TaskView

  it('a DS add: the task succeeds, then publishedAt once the parent serves the record, and publication.served', async () => {
    const { status, id } = await p.submit('/domains/published-ds.com/ds', {
      method: 'POST',
      body: JSON.stringify(RECORD),
    })
    expect(status).toBe(202)
    await p.drainUntil(async () => (await task(id)).publishedAt !== undefined, {
      timeoutMs: 15_000,
    })
    const done = await task(id)
    expect(done.status).toBe('succeeded')
    // Not before the parent's publish delay had passed after the registry task.
    expect(Date.parse(done.publishedAt as string)).toBeGreaterThanOrEqual(
      Date.parse(done.completedAt as string),
    )
    expect(await parentDs(parentPort, 'published-ds.com')).toEqual([RECORD])
    await p.drainUntil(() => events(p).some((event) => event.type === 'publication.served'))
    const served = events(p).find(
      (event) => event.type === 'publication.served' && event.data.taskId === id,
    )
    expect(served?.data).toMatchObject({
      state: 'published',
      action: 'ds.add',
      publishedAt: done.publishedAt,
      domains: [{ domain: 'published-ds.com', expect: { kind: 'ds-present', record: RECORD } }],
    })
    // The task's own event stays the bytes it was first sent with: no publishedAt in it.
    const succeeded = events(p).find(
      (event) => event.type === 'task.succeeded' && event.data.id === id,
    )
    expect(succeeded?.data).not.toHaveProperty('publishedAt')
  })

  it('a name-server move: publishedAt once the parent delegates to the new servers', async () => {
    const nameServers = ['ns1.moved-provider.net', 'ns2.moved-provider.net']
    const { status, id } = await p.submit('/dns-batch', {
      method: 'POST',
      body: JSON.stringify({ domains: ['published-ns.com'], aliyunDns: false, nameServers }),
    })
    expect(status).toBe(202)
    await p.drainUntil(async () => (await task(id)).status === 'succeeded', { timeoutMs: 10_000 })
    const delegation = async () =>
      (await queryServer({ host: '127.0.0.1', port: parentPort }, 'published-ns.com', 'NS'))
        .referral?.nameServers
    // The parent delegates to the new servers only once its publish delay has passed.
    await p.drainUntil(async () => (await task(id)).publishedAt !== undefined, {
      timeoutMs: 15_000,
    })
    expect([...((await delegation()) ?? [])].sort()).toEqual(nameServers)
    await p.drainUntil(() =>
      events(p).some((event) => event.type === 'publication.served' && event.data.taskId === id),
    )
  })

  it('a desired-state change: publishedAt on the change once every step is served', async () => {
    const response = await p.request('/domains/published-change.com/ds', {
      method: 'PUT',
      key: p.tenant.key,
      body: JSON.stringify({ records: [RECORD] }),
    })
    expect(response.status).toBe(202)
    const change = (await response.json()) as { id: string }
    const view = async () =>
      (await (await p.request(`/changes/${change.id}`, { key: p.tenant.key })).json()) as {
        status: string
        publishedAt?: string
      }
    await p.drainUntil(async () => (await view()).publishedAt !== undefined, {
      timeoutMs: 20_000,
    })
    expect((await view()).status).toBe('succeeded')
  })
})

describe('done means published: a parent that never serves the change', () => {
  let p: Pipeline
  const counted: string[] = []
  const metrics: Metrics = {
    add: (name) => {
      counted.push(name)
    },
    flush: () => {},
  }

  beforeAll(async () => {
    // No server is known for .net (DNS_LOOKUP=overrides, none given): the parent never serves it.
    p = await startPipeline({
      emulatorTaskMs: 30,
      env: { PUBLICATION_CHECK_SECONDS: '0.1', PUBLICATION_TIMEOUT_MINUTES: '0.01' },
    })
  }, 30_000)
  afterAll(async () => p?.closeAll())

  it('publication.late after the bound, with what was last seen, and the ChangesNotPublished metric', async () => {
    const { status, id } = await p.submit('/domains/never-published.net/ds', {
      method: 'POST',
      body: JSON.stringify(RECORD),
    })
    expect(status).toBe(202)
    const deps = p.pollerDeps({ metrics })
    await p.drainUntil(
      () =>
        events(p).some((event) => event.type === 'publication.late' && event.data.taskId === id),
      { deps, timeoutMs: 15_000 },
    )
    const late = events(p).find((event) => event.type === 'publication.late')
    expect(late?.data).toMatchObject({
      state: 'late',
      lastCheck: { reason: expect.stringMatching(/DNS_SERVER_OVERRIDES/) },
    })
    expect(late?.data).not.toHaveProperty('publishedAt')
    expect(counted).toContain('ChangesNotPublished')
    const view = (await (await p.request(`/tasks/${id}`, { key: p.tenant.key })).json()) as TaskView
    expect(view.status).toBe('succeeded')
    expect(view.publishedAt).toBeUndefined()
  })
})
