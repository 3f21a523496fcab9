import { describe, expect, it } from 'vitest'
import { serviceTimeCandidates } from './service-time.ts'

describe('service times', () => {
  it('reads both formats, as UTC+8 and as UTC', () => {
    const asUtc = Date.UTC(2017, 11, 26, 11, 0, 54)
    expect(serviceTimeCandidates('Dec 26,2017 11:00:54')).toEqual([asUtc - 8 * 3_600_000, asUtc])
    expect(serviceTimeCandidates('2017-12-26 11:00:54')).toEqual([asUtc - 8 * 3_600_000, asUtc])
  })

  it('gives nothing for text it cannot read', () => {
    expect(serviceTimeCandidates(undefined)).toEqual([])
    expect(serviceTimeCandidates('yesterday')).toEqual([])
    expect(serviceTimeCandidates('Foo 26,2017 11:00:54')).toEqual([])
  })
})
