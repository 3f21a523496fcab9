import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryServer } from '#shared/dns/dns-client.ts'
import { scanZone } from '#shared/dns/scan-zone.ts'
import type { DsRecord } from '#shared/dnssec.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { type Pipeline, startPipeline } from '../helpers/pipeline.ts'
import { PolicyServer, type PolicyServerKind, requireServer } from '../helpers/policy-server.ts'
import { freePort } from '../helpers/rollover-suite.ts'

/**
 * The operators' own key managers end to end (BIND's dnssec-policy with parental-agents, Knot's
 * KASP with ksk-submission): enrolled once with bootstrap, then nothing but waiting — the server
 * makes its KSK, publishes CDS, rolls the KSK when its lifetime ends and checks the parent itself;
 * the gateway bootstraps the DS, then swaps it; at every sample the parent's DS set validates the
 * zone's DNSKEY set. The configurations are the operator's guide's (see policy-server.ts).
 */
const SERVERS: readonly { kind: PolicyServerKind; zone: string; name: string }[] = [
  { kind: 'bind', zone: 'policy-example.com', name: 'BIND 9 dnssec-policy with parental-agents' },
  { kind: 'knot', zone: 'knot-example.com', name: 'Knot DNS KASP with ksk-submission' },
]

describe.each(SERVERS)('$name, left alone', ({ kind, zone: ZONE }) => {
  let p: Pipeline
  let server: PolicyServer
  let parentPort: number

  beforeAll(async () => {
    requireServer(kind)
    const serverPort = await freePort()
    parentPort = await freePort()
    p = await startPipeline({
      emulatorTaskMs: 50,
      parentZone: { port: parentPort, publishDelayMs: 300, dsTtlSeconds: 1 },
      env: {
        DNS_SERVER_OVERRIDES: JSON.stringify({
          [ZONE]: [`127.0.0.1:${serverPort}`],
          com: [`127.0.0.1:${parentPort}`],
        }),
        CALLBACK_ALLOW_LOOPBACK: 'true',
        DNSSEC_BOOTSTRAP_SCANS: '2',
      },
    })
    server = new PolicyServer(kind, ZONE, serverPort, parentPort)
    await server.start()
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await p?.closeAll()
  })

  const parentDs = async (): Promise<DsRecord[]> => {
    const answer = await queryServer({ host: '127.0.0.1', port: parentPort }, ZONE, 'DS')
    return answer.records.map((record) => {
      const data = (
        record as {
          data: { keyTag: number; algorithm: number; digestType: number; digest: Buffer }
        }
      ).data
      return { ...data, digest: data.digest.toString('hex') }
    })
  }

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
          [{ host: '127.0.0.1', port: server.port }],
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
          `no rollover in time; parent DS history ${JSON.stringify(history)}, phase ${result.phase}\n${server.output.slice(-3000)}`,
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
