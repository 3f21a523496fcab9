import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queryServer } from '#shared/dns/dns-client.ts'
import { scanZone } from '#shared/dns/scan-zone.ts'
import { runPoller } from '#shared/poller/run-poller.ts'
import { delvValidates } from '../helpers/delv.ts'
import { freePort } from '../helpers/free-port.ts'
import { parentDs } from '../helpers/parent-ds.ts'
import { type Pipeline, startPipeline } from '../helpers/pipeline.ts'
import { PolicyServer, type PolicyServerKind, requireServer } from '../helpers/policy-server.ts'

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

/** A pipeline whose emulator serves the parent zone over DNS, and the server for `zone`. */
async function setUp(kind: PolicyServerKind, zone: string) {
  requireServer(kind)
  const serverPort = await freePort()
  const parentPort = await freePort()
  const p = await startPipeline({
    emulatorTaskMs: 50,
    parentZone: { port: parentPort, publishDelayMs: 300, dsTtlSeconds: 1 },
    env: {
      DNS_SERVER_OVERRIDES: JSON.stringify({
        [zone]: [`127.0.0.1:${serverPort}`],
        com: [`127.0.0.1:${parentPort}`],
      }),
      CALLBACK_ALLOW_LOOPBACK: 'true',
      DNSSEC_BOOTSTRAP_SCANS: '2',
    },
  })
  const server = new PolicyServer(kind, zone, serverPort, parentPort)
  await server.start()
  return { p, server, parentPort }
}

const enrol = async (p: Pipeline, zone: string) => {
  const response = await p.request(`/domains/${zone}/dnssec`, {
    method: 'PUT',
    key: p.tenant.key,
    body: JSON.stringify({ mode: 'cds', bootstrap: true }),
  })
  expect(response.status).toBe(200)
}

/**
 * Scans the zone and runs the poller every two seconds, as the schedule would, until `done` says
 * so (given the history of the parent's DS sets, as `keyTag/algorithm` lists, and the phase);
 * at every sample with a DS at the parent, that DS set must validate the zone's DNSKEY set.
 */
async function follow(
  p: Pipeline,
  server: PolicyServer,
  parentPort: number,
  poller: ReturnType<Pipeline['pollerDeps']>,
  done: (history: readonly string[], phase: string) => boolean,
  timeoutMs = 240_000,
): Promise<{ history: string[]; samples: number }> {
  const zone = server.zone
  const history: string[] = []
  let samples = 0
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const started = Date.now()
    const scanned = await p.request(`/domains/${zone}/dnssec/scan`, {
      method: 'POST',
      key: p.tenant.key,
    })
    const { result } = (await scanned.json()) as { result: { phase: string } }
    await runPoller(poller, Date.now() + 300)
    const parent = await parentDs(parentPort, zone)
    if (parent.length > 0) {
      const outcome = await scanZone(
        zone,
        [{ host: '127.0.0.1', port: server.port }],
        (at, name, type) => queryServer(at, name, type),
        parent,
        { nowSeconds: Math.floor(Date.now() / 1000), bootstrap: false },
      )
      expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true)
      // …and BIND's validator agrees, with the parent's DS set as its only trust anchor.
      const delv = await delvValidates({ host: '127.0.0.1', port: server.port }, zone, parent)
      expect(delv.ok, delv.output).toBe(true)
      samples++
    }
    const set = parent
      .map((ds) => `${ds.keyTag}/${ds.algorithm}`)
      .sort()
      .join(',')
    if (history.at(-1) !== set) history.push(set)
    if (done(history, result.phase)) return { history, samples }
    if (Date.now() > deadline) {
      throw new Error(
        `not done in time; parent DS history ${JSON.stringify(history)}, phase ${result.phase}\n${server.output.slice(-3000)}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2_000 - (Date.now() - started))))
  }
}

describe.each(SERVERS)('$name, left alone', ({ kind, zone: ZONE }) => {
  let p: Pipeline
  let server: PolicyServer
  let parentPort: number

  beforeAll(async () => {
    ;({ p, server, parentPort } = await setUp(kind, ZONE))
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await p?.closeAll()
  })

  it('bootstraps the DS, then rolls the KSK with no step but waiting; the chain intact at every sample', async () => {
    await enrol(p, ZONE)
    const poller = p.pollerDeps()
    // Unsigned, the bootstrap DS, both, the new DS alone: the rollover is done on our side.
    const { history, samples } = await follow(p, server, parentPort, poller, (history, phase) => {
      const last = history.at(-1) ?? ''
      return history.length >= 4 && !last.includes(',') && last !== history[1] && phase === 'idle'
    })
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
    // No failed scan: before the server first publishes its CDS, the zone asks for nothing.
    expect(ours().filter((event) => event.type === 'dnssec.scan.failed')).toEqual([])
    expect(ours()[0]?.type).toBe('dnssec.ds.submitted')
    const types = ours().map((event) => event.type)
    expect(types.slice(0, 3)).toEqual([
      'dnssec.ds.submitted',
      'dnssec.ds.published',
      'dnssec.rollover.completed',
    ])
    expect(new Set(ours().map((event) => event.data.sequence)).size).toBe(ours().length)
  }, 360_000)
})

describe('BIND 9 algorithm rollover (8 → 13), one configuration change and then waiting', () => {
  const ZONE = 'algorithm-example.com'
  let p: Pipeline
  let server: PolicyServer
  let parentPort: number

  beforeAll(async () => {
    ;({ p, server, parentPort } = await setUp('bind-algorithm-8', ZONE))
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await p?.closeAll()
  })

  it('bootstraps an RSA/SHA-256 DS, then swaps it for the ECDSA one; the chain intact at every sample', async () => {
    await enrol(p, ZONE)
    const poller = p.pollerDeps()
    const single = (set: string | undefined, algorithm: number) =>
      set !== undefined && set !== '' && !set.includes(',') && set.endsWith(`/${algorithm}`)
    const boot = await follow(
      p,
      server,
      parentPort,
      poller,
      (history, phase) => single(history.at(-1), 8) && phase === 'idle',
    )
    expect(boot.history[0]).toBe('')
    await server.reconfigure('bind-algorithm-13')
    const roll = await follow(
      p,
      server,
      parentPort,
      poller,
      (history, phase) => single(history.at(-1), 13) && phase === 'idle',
    )
    // Through both algorithms' DS, never without one the zone validates with.
    expect(roll.history.some((set) => set.includes('/8') && set.includes('/13'))).toBe(true)
    expect(roll.samples).toBeGreaterThan(5)
  }, 360_000)
})

describe('PowerDNS, rolled by the pdnsutil steps of its guide', () => {
  const ZONE = 'pdns-example.com'
  let p: Pipeline
  let server: PolicyServer
  let parentPort: number

  beforeAll(async () => {
    ;({ p, server, parentPort } = await setUp('pdns', ZONE))
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await p?.closeAll()
  })

  it('bootstraps the CSK DS, then swaps it for a new KSK as the steps go; the chain intact at every sample', async () => {
    await enrol(p, ZONE)
    const poller = p.pollerDeps()
    const count = (set: string | undefined) => (set ? set.split(',').length : 0)
    const boot = await follow(
      p,
      server,
      parentPort,
      poller,
      (history, phase) => count(history.at(-1)) === 1 && phase === 'idle',
    )
    expect(boot.history[0]).toBe('')
    const oldDs = boot.history.at(-1) as string
    const keyIds = () =>
      [
        ...server
          .pdnsutil('list-keys', ZONE)
          .matchAll(/^\S+\s+(?:CSK|KSK|ZSK)\s.*?\s(\d+)\s+cryptokeys/gm),
      ].map((match) => match[1] as string)
    const [oldId] = keyIds()
    server.pdnsutil('add-zone-key', ZONE, 'ksk', 'inactive', 'published', 'ecdsa256')
    const newId = keyIds().find((id) => id !== oldId) as string
    expect(newId).toBeDefined()
    // The DNSKEY TTL (2 s) passes before the new key is activated, as the guide says.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    server.pdnsutil('activate-zone-key', ZONE, newId)
    const both = await follow(
      p,
      server,
      parentPort,
      poller,
      (history, phase) => count(history.at(-1)) === 2 && phase === 'idle',
    )
    server.pdnsutil('deactivate-zone-key', ZONE, oldId as string)
    server.pdnsutil('remove-zone-key', ZONE, oldId as string)
    const done = await follow(
      p,
      server,
      parentPort,
      poller,
      (history, phase) =>
        count(history.at(-1)) === 1 && history.at(-1) !== oldDs && phase === 'idle',
    )
    expect(both.history.at(-1)).toContain(oldDs)
    expect(done.history.at(-1)).not.toContain(oldDs.split('/')[0])
    expect(boot.samples + both.samples + done.samples).toBeGreaterThan(5)
  }, 360_000)
})
