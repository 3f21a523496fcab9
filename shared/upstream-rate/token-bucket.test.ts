import { describe, expect, it } from 'vitest'
import { refill, slowDown, take } from './token-bucket.ts'

const settings = { ratePerSecond: 10, burst: 5, slowForMs: 30_000 }

describe('the shared upstream token bucket', () => {
  it('starts full, refills at the rate, never above the burst', () => {
    expect(refill(undefined, 1_000, settings)).toEqual({ tokens: 5, at: 1_000 })
    expect(refill({ tokens: 0, at: 1_000 }, 1_200, settings).tokens).toBeCloseTo(2)
    expect(refill({ tokens: 4, at: 1_000 }, 60_000, settings).tokens).toBe(5)
  })
  it('grants whole tokens up to what is asked, and says how long until the next one', () => {
    const first = take(undefined, 0, 3, settings)
    expect(first).toMatchObject({ ok: true, granted: 3 })
    const rest = take(first.ok ? first.next : undefined, 0, 3, settings)
    expect(rest).toMatchObject({ ok: true, granted: 2 })
    const none = take(rest.ok ? rest.next : undefined, 0, 1, settings)
    expect(none).toEqual({ ok: false, waitMs: 100 })
  })
  it('a throttling answer empties the bucket and halves the rate, down to an eighth, for a while', () => {
    let state = slowDown(undefined, 0, settings)
    expect(state).toMatchObject({ tokens: 0, slowFactor: 0.5, slowUntil: 30_000 })
    expect(take(state, 0, 1, settings)).toEqual({ ok: false, waitMs: 200 })
    for (let i = 0; i < 5; i++) state = slowDown(state, 0, settings)
    expect(state.slowFactor).toBe(1 / 8)
    // After the slow period the full rate is back.
    expect(refill({ ...state, tokens: 0, at: 30_000 }, 30_100, settings).tokens).toBeCloseTo(1)
  })
})
