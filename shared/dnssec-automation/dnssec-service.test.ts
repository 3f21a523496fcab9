import { describe, expect, it } from 'vitest'
import { NameServerLookupError } from '../dns/name-servers.ts'
import type { WebhookEvent } from '../events/webhook-event.ts'
import { type DnssecDeps, runDnssecScans, scanAndStep } from './dnssec-service.ts'
import type { DnssecState } from './dnssec-state.ts'

const NOW = Date.parse('2026-12-06T12:00:00Z')

const enrolled: DnssecState = {
  domain: 'lost.example',
  tenant: 'acme',
  keyId: 'key_1',
  callbackUrl: 'https://hooks.example/dg',
  mode: 'cds',
  bootstrap: false,
  allowDelete: false,
  phase: 'idle',
  version: 3,
}

/** Only what a scan that cannot find its servers touches; anything else would throw. */
function depsWhere(serversFor: DnssecDeps['serversFor']) {
  const saved: { next: Omit<DnssecState, 'version'>; expected: number | undefined }[] = []
  const events: WebhookEvent[] = []
  const deps = {
    now: () => NOW,
    registry: {
      queryDsRecord: async () => ({
        records: [{ keyTag: 2371, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) }],
      }),
    },
    serversFor,
    query: async () => {
      throw new Error('no server should be asked')
    },
    dnssecStates: {
      save: async (next: Omit<DnssecState, 'version'>, expected: number | undefined) => {
        saved.push({ next, expected })
        return true
      },
      list: async () => ({ items: [enrolled] }),
    },
    events: { create: async (event: WebhookEvent) => void events.push(event) },
    eventSequence: { next: async () => events.length + 1 },
    settings: { taskRetentionMs: 86_400_000 },
    logger: { warn: () => undefined },
    dnssec: { stuckAfterMs: 3_600_000, bootstrapScans: 3 },
  } as unknown as DnssecDeps
  return { deps, saved, events }
}

describe('a scan whose name servers cannot be found', () => {
  const lost = async () => {
    throw new NameServerLookupError('the NS set of lost.example could not be found: ENOTFOUND')
  }

  it('is a failed scan, recorded with its reason and reported once by event', async () => {
    const { deps, saved, events } = depsWhere(lost)
    const report = await scanAndStep(deps, enrolled)
    expect(report).toEqual({
      domain: 'lost.example',
      ok: false,
      phase: 'idle',
      action: 'failed',
      reason: "the zone's servers: the NS set of lost.example could not be found: ENOTFOUND",
    })
    expect(saved).toHaveLength(1)
    expect(saved[0]?.expected).toBe(3)
    expect(saved[0]?.next.lastScan).toMatchObject({
      at: '2026-12-06T12:00:00.000Z',
      ok: false,
      reason: report.reason,
      servers: [],
    })
    expect(saved[0]?.next.failureReported).toBe(true)
    expect(events.map((event) => [event.eventType, event.data])).toEqual([
      [
        'dnssec.scan.failed',
        { domain: 'lost.example', reason: report.reason, servers: [], sequence: 1 },
      ],
    ])

    // Already reported: the next failed scan is recorded, not sent again.
    const again = depsWhere(lost)
    await scanAndStep(again.deps, { ...enrolled, failureReported: true })
    expect(again.saved).toHaveLength(1)
    expect(again.events).toHaveLength(0)
  })

  it('counts as failed in the scheduled run instead of ending it', async () => {
    const { deps, saved } = depsWhere(lost)
    expect(await runDnssecScans(deps)).toEqual({ scanned: 1, failed: 1 })
    expect(saved[0]?.next.lastScan?.ok).toBe(false)
  })

  it('still throws what is not a lookup failure (the store, a bug), so it is not hidden', async () => {
    const { deps, saved } = depsWhere(async () => {
      throw new TypeError('a bug')
    })
    await expect(scanAndStep(deps, enrolled)).rejects.toThrow('a bug')
    expect(saved).toHaveLength(0)
  })
})
