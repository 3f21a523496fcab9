import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { upstreamTasksFor } from './helpers/emulator.ts'
import { type Pipeline, startPipeline } from './helpers/pipeline.ts'

/**
 * The registry's documented DS preconditions: only some TLDs, at most eight records, none while
 * the domain's DNS is on Alibaba Cloud DNS. What the gateway can know it refuses with 422 before
 * anything is sent; what only the registry knows fails the task with the registry's reason.
 */
const K = (keyTag: number) => ({
  keyTag,
  algorithm: 13,
  digestType: 2,
  digest: keyTag.toString(16).padStart(64, '0'),
})

let p: Pipeline
let xyz: Pipeline
beforeAll(async () => {
  p = await startPipeline({ emulatorTaskMs: 30 })
  // An operator who knows better than the documents (here: wrongly) lets .xyz through.
  xyz = await startPipeline({ emulatorTaskMs: 30, env: { DNSSEC_TLDS: 'com,.xyz' } })
})
afterAll(async () => {
  await p.closeAll()
  await xyz.closeAll()
})

// biome-ignore lint/suspicious/noExplicitAny: the tests read answers' JSON loosely
const json = async (response: Response) => (await response.json()) as Record<string, any>
const call = (pipeline: Pipeline, method: string, path: string, body: unknown) =>
  pipeline.request(path, { method, key: pipeline.tenant.key, body: JSON.stringify(body) })

describe('refused before anything is sent', () => {
  it('a DS record for a TLD outside DNSSEC_TLDS: 422 naming the TLD, no task, nothing upstream', async () => {
    for (const [method, path, body] of [
      ['POST', '/domains/example.xyz/ds', K(1)],
      ['PUT', '/domains/example.xyz/ds/1', K(1)],
      ['PUT', '/domains/example.xyz/ds', { records: [K(1)] }],
      ['PUT', '/domains/example.xyz/dnssec', { mode: 'cds' }],
    ] as const) {
      const answer = await call(p, method, path, body)
      expect(answer.status, `${method} ${path}`).toBe(422)
      const problem = await json(answer)
      expect(problem.detail).toMatch(/\.xyz/)
      expect(problem.errors).toEqual([{ path: 'path.name', message: problem.detail }])
    }
    expect(upstreamTasksFor(p.emulator, 'example.xyz')).toEqual([])
    const listed = await p.request('/tasks?domain=example.xyz', { key: p.tenant.key })
    expect((await json(listed)).items).toEqual([])
    // Taking every DS record away is always allowed.
    const off = await call(p, 'PUT', '/domains/example.xyz/ds?dryRun=true', {
      records: [],
      allowEmpty: true,
    })
    expect(off.status).toBe(200)
  })

  it('a desired state of more than eight records: 422', async () => {
    const answer = await call(p, 'PUT', '/domains/nine.com/ds', {
      records: Array.from({ length: 9 }, (_, i) => K(i + 1)),
    })
    expect(answer.status).toBe(422)
    expect(JSON.stringify((await json(answer)).errors)).toMatch(/at most 8 DS records/)
    expect(upstreamTasksFor(p.emulator, 'nine.com')).toEqual([])
  })
})

describe('refused by the registry: the failed task says why', () => {
  it('a domain on Alibaba Cloud DNS', async () => {
    p.emulator.account.nameServers.set('hosted.com', ['dns1.hichina.com', 'dns2.hichina.com'])
    const answer = await p.submit('/domains/hosted.com/ds', {
      method: 'POST',
      body: JSON.stringify(K(5)),
    })
    expect(answer.status).toBe(202)
    await p.drainUntil(async () => (await p.task(answer.id)).status === 'failed')
    expect((await p.task(answer.id)).error?.message).toMatch(/Alibaba Cloud DNS/)
  })

  it('a TLD let through by DNSSEC_TLDS that the registry refuses', async () => {
    const answer = await xyz.submit('/domains/example.xyz/ds', {
      method: 'POST',
      body: JSON.stringify(K(6)),
    })
    expect(answer.status).toBe(202)
    await xyz.drainUntil(async () => (await xyz.task(answer.id)).status === 'failed')
    expect((await xyz.task(answer.id)).error?.message).toMatch(/\.xyz/)
  })
})
