export interface BackoffOptions {
  /** Delay cap before jitter for the first retry. */
  readonly baseMs: number
  /** No delay exceeds this. */
  readonly maxMs: number
}

/**
 * "Full jitter" exponential backoff: a uniformly random delay in [0, min(max, base * 2^attempt)].
 * `random` returns a number in [0, 1), passed in so tests can fix it.
 */
export function jitteredBackoffMs(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** attempt)
  return Math.floor(random() * ceiling)
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms)
  })
