/**
 * How far the service's clock is from ours, measured from the `Date` header of its answers.
 *
 * `Date` has one-second resolution and is stamped somewhere between the moment we started sending
 * and the moment we read the answer, so each answer bounds the offset (service − ours) to
 * `[date − readAt, date + 1 s − sentAt]`. A busy event loop only widens that interval; it never
 * moves it. The tracker keeps the narrowest recent interval and calls the clock *off* only when that
 * whole interval lies beyond the allowed skew — a proof, not a guess, so load cannot cause it.
 */
export interface SkewSample {
  /** Lowest possible offset, ms (service clock minus ours). */
  readonly low: number
  /** Highest possible offset, ms. */
  readonly high: number
  /** When the answer was read, our clock. */
  readonly at: number
}

/** A sample stays the best one for this long, unless a narrower one arrives. */
const SAMPLE_LIFETIME_MS = 5 * 60_000

export class ClockSkewTracker {
  #best: SkewSample | undefined

  /** Records one answer: its `Date` header, and our clock when the request left and the answer came. */
  observe(dateHeader: string | undefined, sentAt: number, readAt: number): void {
    if (!dateHeader) return
    const date = Date.parse(dateHeader)
    if (Number.isNaN(date)) return
    const sample = { low: date - readAt, high: date + 1_000 - sentAt, at: readAt }
    const best = this.#best
    if (
      !best ||
      readAt - best.at > SAMPLE_LIFETIME_MS ||
      sample.high - sample.low <= best.high - best.low
    ) {
      this.#best = sample
    }
  }

  /** The current best bounds on the offset, if any answer carried a `Date`. */
  get sample(): SkewSample | undefined {
    return this.#best
  }

  /**
   * The smallest skew the evidence proves (0 when the bounds include no skew at all), signed: a
   * positive value means the service's clock is ahead of ours.
   */
  provenSkewMs(): number {
    const best = this.#best
    if (!best) return 0
    if (best.low > 0) return best.low
    if (best.high < 0) return best.high
    return 0
  }
}
