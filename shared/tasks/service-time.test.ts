import { describe, expect, it } from 'vitest'
import { serviceTimeCandidates } from './service-time.ts'

describe('service times', () => {
  it('reads both formats as UTC+8, as the docs pair them with epoch values', () => {
    // The docs' own pair: `2017-11-01 17:22:51` ↔ 1509528171000.
    expect(serviceTimeCandidates('2017-11-01 17:22:51')).toEqual([1_509_528_171_000])
    const asUtc = Date.UTC(2017, 11, 26, 11, 0, 54)
    expect(serviceTimeCandidates('Dec 26,2017 11:00:54')).toEqual([asUtc - 8 * 3_600_000])
    expect(serviceTimeCandidates('2017-12-26 11:00:54')).toEqual([asUtc - 8 * 3_600_000])
    expect(serviceTimeCandidates('Jan 05,2018 08:00:00')).toEqual([Date.UTC(2018, 0, 5, 0, 0, 0)])
  })

  it('gives nothing for text it cannot read', () => {
    expect(serviceTimeCandidates(undefined)).toEqual([])
    expect(serviceTimeCandidates('yesterday')).toEqual([])
    expect(serviceTimeCandidates('Foo 26,2017 11:00:54')).toEqual([])
  })
})
