/**
 * One Alibaba Cloud account's upstream calls, shared by every process that calls with its key: a
 * token bucket (pure). Tokens refill at `ratePerSecond` up to `burst`; a throttling answer halves
 * the rate for a while (down to an eighth), so every worker slows down at once.
 */
export interface BucketSettings {
  readonly ratePerSecond: number
  readonly burst: number
  /** How long a throttling answer slows the bucket. */
  readonly slowForMs: number
}

export interface BucketState {
  readonly tokens: number
  /** When `tokens` was counted (epoch ms). */
  readonly at: number
  /** While now < slowUntil the rate is multiplied by `slowFactor`. */
  readonly slowUntil?: number | undefined
  readonly slowFactor?: number | undefined
}

const MIN_FACTOR = 1 / 8

/** The rate in force at `now` (tokens per ms). */
function ratePerMs(state: BucketState, now: number, settings: BucketSettings): number {
  const factor =
    state.slowUntil !== undefined && now < state.slowUntil ? (state.slowFactor ?? 1) : 1
  return (settings.ratePerSecond * factor) / 1000
}

/** The bucket counted again at `now`. */
export function refill(
  state: BucketState | undefined,
  now: number,
  settings: BucketSettings,
): BucketState {
  if (!state) return { tokens: settings.burst, at: now }
  const elapsed = Math.max(0, now - state.at)
  const tokens = Math.min(settings.burst, state.tokens + elapsed * ratePerMs(state, now, settings))
  return { ...state, tokens, at: Math.max(now, state.at) }
}

export type Take =
  | { readonly ok: true; readonly granted: number; readonly next: BucketState }
  | { readonly ok: false; readonly waitMs: number }

/** Takes up to `want` whole tokens at `now`; none left: how long until one is. */
export function take(
  state: BucketState | undefined,
  now: number,
  want: number,
  settings: BucketSettings,
): Take {
  const counted = refill(state, now, settings)
  const granted = Math.min(want, Math.floor(counted.tokens))
  if (granted >= 1) {
    return { ok: true, granted, next: { ...counted, tokens: counted.tokens - granted } }
  }
  const missing = 1 - counted.tokens
  return { ok: false, waitMs: Math.ceil(missing / ratePerMs(counted, now, settings)) }
}

/** The bucket after a throttling answer: the rate halved (compounding, down to an eighth) for a while. */
export function slowDown(
  state: BucketState | undefined,
  now: number,
  settings: BucketSettings,
): BucketState {
  const counted = refill(state, now, settings)
  const slowed = counted.slowUntil !== undefined && now < counted.slowUntil
  const factor = Math.max(MIN_FACTOR, (slowed ? (counted.slowFactor ?? 1) : 1) / 2)
  return { ...counted, tokens: 0, slowUntil: now + settings.slowForMs, slowFactor: factor }
}
