import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryServer } from '#shared/dns/dns-client.ts'
import { scanZone } from '#shared/dns/scan-zone.ts'
import type { DsRecord } from '#shared/dnssec.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { requireBind } from '../helpers/bind.ts'
import { BindPolicyZone } from '../helpers/bind-policy.ts'
import { type Pipeline, startPipeline } from '../helpers/pipeline.ts'
import { freePort } from '../helpers/rollover-suite.ts'

/**
 * BIND's own key manager end to end: enrolled once with bootstrap, then nothing but waiting —
 * BIND makes the KSK, publishes CDS, rolls the KSK when its lifetime ends and checks the parent
 * through its parental-agents; the gateway bootstraps the DS, then swaps it; at every sample the
 * parent's DS set validates the zone's DNSKEY set.
 */
const ZONE = 'policy-example.com'
/** The configuration the operator's guide prints (the test reads it from there). */
const POLICY = (() => {
  const guide = readFileSync('docs/desired-state-and-dnssec.md', 'utf8')
  const section = guide.slice(guide.indexOf('#### BIND 9.18 as the interoperability test runs it'))
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1]
  if (!block) throw new Error("the operator's guide no longer prints the BIND configuration")
  return block
})()

let p: Pipeline
let bind: BindPolicyZone
let parentPort: number

beforeAll(async () => {
  requireBind()
  const bindPort = await freePort()
  parentPort = await freePort()
  p = await startPipeline({
    emulatorTaskMs: 50,
    parentZone: { port: parentPort, publishDelayMs: 300, dsTtlSeconds: 1 },
    env: {
      DNS_SERVER_OVERRIDES: JSON.stringify({
        [ZONE]: [`127.0.0.1:${bindPort}`],
        com: [`127.0.0.1:${parentPort}`],
      }),
      CALLBACK_ALLOW_LOOPBACK: 'true',
      DNSSEC_BOOTSTRAP_SCANS: '2',
    },
  })
  bind = new BindPolicyZone(ZONE, bindPort, parentPort, POLICY)
  await bind.start()
}, 60_000)
afterAll(async () => {
  await bind?.close()
  await p?.closeAll()
})

const parentDs = async (): Promise<DsRecord[]> => {
  const answer = await queryServer({ host: '127.0.0.1', port: parentPort }, ZONE, 'DS')
  return answer.records.map((record) => {
    const data = (
      record as { data: { keyTag: number; algorithm: number; digestType: number; digest: Buffer } }
    ).data
    return { ...data, digest: data.digest.toString('hex') }
  })
}

describe('BIND 9 dnssec-policy with parental-agents, left alone', () => {
  it('bootstraps the DS, then rolls the KSK with no step but waiting; the chain intact at every sample', async () => {
    const enrol = await p.request(`/domains/${ZONE}/dnssec`, {
      method: 'PUT',
      key: p.tenant.key,
      body: JSON.stringify({ mode: 'cds', bootstrap: true }),
    })
    expect(enrol.status).toBe(200)
    const poller = p.pollerDeps()
    const history: string[] = []
    let samples = 0
    const deadline = Date.now() + 240_000
    for (;;) {
      const started = Date.now()
      const scanned = await p.request(`/domains/${ZONE}/dnssec/scan`, {
        method: 'POST',
        key: p.tenant.key,
      })
      const { result } = (await scanned.json()) as { result: { phase: string } }
      await runPoller(poller, Date.now() + 300)
      const parent = await parentDs()
      if (parent.length > 0) {
        const outcome = await scanZone(
          ZONE,
          [{ host: '127.0.0.1', port: bind.port }],
          (server, name, type) => queryServer(server, name, type),
          parent,
          { nowSeconds: Math.floor(Date.now() / 1000), bootstrap: false },
        )
        expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true)
        samples++
      }
      const tags = parent
        .map((ds) => ds.keyTag)
        .sort((a, b) => a - b)
        .join(',')
      if (history.at(-1) !== tags) history.push(tags)
      // Unsigned, the bootstrap DS, both, the new DS alone: the rollover is done on our side.
      const last = history.at(-1) ?? ''
      if (
        history.length >= 4 &&
        !last.includes(',') &&
        last !== history[1] &&
        result.phase === 'idle'
      ) {
        break
      }
      if (Date.now() > deadline) {
        throw new Error(
          `no rollover in time; parent DS history ${JSON.stringify(history)}, phase ${result.phase}\n${bind.output.slice(-3000)}`,
        )
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, 2_000 - (Date.now() - started))),
      )
    }
    expect(history[0]).toBe('')
    expect(samples).toBeGreaterThan(10)
    // The domain's events, delivered concurrently, numbered in the order they happened.
    const ours = () =>
      p.receiver.received
        .map((request) => p.receiver.verify(request, p.tenant.webhookSecret))
        .filter((event) => event.type.startsWith('dnssec.') && event.data.domain === ZONE)
        .sort((a, b) => (a.data.sequence as number) - (b.data.sequence as number))
    await p.drainUntil(
      () => ours().filter((e) => e.type === 'dnssec.rollover.completed').length >= 2,
      {
        deps: poller,
        timeoutMs: 30_000,
      },
    )
    // The only failed scan allowed: one before BIND first publishes its CDS (seconds after start).
    const failures = ours().filter((event) => event.type === 'dnssec.scan.failed')
    expect(failures.map((event) => event.data.reason)).toEqual(
      failures.length === 0 ? [] : ['the zone publishes no CDS or CDNSKEY'],
    )
    expect(ours()[0]?.type).toBe(
      failures.length === 0 ? 'dnssec.ds.submitted' : 'dnssec.scan.failed',
    )
    const types = ours()
      .map((event) => event.type)
      .filter((type) => type !== 'dnssec.scan.failed')
    expect(types.slice(0, 3)).toEqual([
      'dnssec.ds.submitted',
      'dnssec.ds.published',
      'dnssec.rollover.completed',
    ])
    expect(new Set(ours().map((event) => event.data.sequence)).size).toBe(ours().length)
  }, 360_000)
})
