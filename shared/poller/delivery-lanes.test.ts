import { describe, expect, it } from 'vitest'
import { DeliveryLanes, inTurns } from './delivery-lanes.ts'

const waiting = (entries: [string, string][]) =>
  entries.map(([id, tenant]) => [id, { url: `https://${tenant}.example/hook`, tenant }] as const)

describe('turns among tenants for delivery lanes', () => {
  it('gives one callback per tenant per round, the tenant with the fewest in flight first', () => {
    const inFlight: Record<string, number> = { busy: 3, calm: 0, mid: 1 }
    const order = inTurns(
      waiting([
        ['b1', 'busy'],
        ['b2', 'busy'],
        ['b3', 'busy'],
        ['b4', 'busy'],
        ['m1', 'mid'],
        ['c1', 'calm'],
        ['m2', 'mid'],
      ]),
      (tenant) => inFlight[tenant] ?? 0,
    )
    expect(order.map(([id]) => id)).toEqual(['c1', 'm1', 'b1', 'm2', 'b2', 'b3', 'b4'])
  })

  it('a tenant with many waiting callbacks never takes the free lanes before the others take a turn', () => {
    const lanes = new DeliveryLanes({ concurrency: 4, perEndpoint: 4, perTenant: 4 })
    const entries = waiting([
      ...Array.from({ length: 50 }, (_, i) => [`noisy-${i}`, 'noisy'] as [string, string]),
      ['quiet-1', 'quiet'],
      ['other-1', 'other'],
    ])
    const granted: string[] = []
    for (const [id, { url, tenant }] of inTurns(entries, (t) => lanes.inFlightOf(t))) {
      if (lanes.reserve(id, url, tenant)) granted.push(id)
    }
    expect(granted).toHaveLength(4)
    expect(granted).toContain('quiet-1')
    expect(granted).toContain('other-1')
    expect(lanes.inFlightOf('noisy')).toBe(2)
  })
})
