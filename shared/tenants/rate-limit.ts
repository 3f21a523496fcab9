/**
 * Per-tenant request rates, shared by every API instance: a fixed one-minute window per tenant and
 * kind, counted in the table by conditional increments. An instance takes tokens from the shared
 * count a batch at a time (a lease) and spends them locally, so most requests cost no store
 * request; tokens an instance leased and did not spend are lost with the window (at most one
 * lease per instance, the price of sharing the count cheaply). A window found spent is remembered
 * here until it ends, so refused requests cost no store request either.
 */

/** What a request spends: state changes, Alibaba reads, other reads, redeliveries. */
export const RATE_KINDS = ['writes', 'upstreamReads', 'reads', 'redeliveries'] as const
export type RateKind = (typeof RATE_KINDS)[number]

/** Requests per minute per kind; 0: unlimited. */
export type RateLimits = Readonly<Record<RateKind, number>>

export const WINDOW_MS = 60_000

/** The shared counters: one per tenant, kind and window. */
export interface RateCounterStore {
  /**
   * Adds `count` to the counter if it stays at most `limit`; answers the counter after the add, or
   * undefined when it would pass `limit`. The counter may be forgotten after `expiresAt`.
   */
  take(key: string, count: number, limit: number, expiresAt: number): Promise<number | undefined>
}

/** A request's answer: allowed or not, and what the `RateLimit` headers say. */
export interface RateDecision {
  readonly allowed: boolean
  readonly kind: RateKind
  readonly limit: number
  /** Requests left in the window (as far as this instance knows). */
  readonly remaining: number
  /** Seconds until the window ends. */
  readonly resetSeconds: number
}

interface Lease {
  readonly window: number
  tokens: number
  /** The shared counter when this lease was taken. */
  counted: number
  spent: boolean
}

/** Tokens taken from the shared count at once: about 2 % of the limit, at least one. */
export const leaseSize = (limit: number): number => Math.max(1, Math.floor(limit / 50))

export class RateLimiter {
  readonly #leases = new Map<string, Lease>()

  constructor(
    private readonly store: RateCounterStore,
    private readonly now: () => number,
  ) {}

  /** Spends one request of `kind` for `tenant` under `limit` per minute (0: unlimited). */
  async take(tenant: string, kind: RateKind, limit: number): Promise<RateDecision | undefined> {
    if (limit <= 0) return undefined
    const at = this.now()
    const window = Math.floor(at / WINDOW_MS) * WINDOW_MS
    const resetSeconds = Math.max(1, Math.ceil((window + WINDOW_MS - at) / 1000))
    const id = `${tenant}#${kind}`
    let lease = this.#leases.get(id)
    if (!lease || lease.window !== window) {
      lease = { window, tokens: 0, counted: 0, spent: false }
      this.#leases.set(id, lease)
      if (this.#leases.size > 10_000) this.#forgetOld(window)
    }
    if (lease.tokens === 0 && !lease.spent) {
      const key = `${id}#${window}`
      const expiresAt = window + 2 * WINDOW_MS
      const batch = Math.min(leaseSize(limit), limit)
      let counted = await this.store.take(key, batch, limit, expiresAt)
      let granted = batch
      if (counted === undefined && batch > 1) {
        counted = await this.store.take(key, 1, limit, expiresAt)
        granted = 1
      }
      if (counted === undefined) lease.spent = true
      else {
        lease.tokens += granted
        lease.counted = Math.max(lease.counted, counted)
      }
    }
    const decision = { kind, limit, resetSeconds }
    if (lease.tokens === 0) return { ...decision, allowed: false, remaining: 0 }
    lease.tokens -= 1
    return {
      ...decision,
      allowed: true,
      remaining: Math.max(0, limit - lease.counted) + lease.tokens,
    }
  }

  #forgetOld(window: number): void {
    for (const [id, lease] of this.#leases) if (lease.window < window) this.#leases.delete(id)
  }
}

/**
 * The kind of request a route's call spends: what its spec names (`rate`; with `dryRun`,
 * `rateWhenDryRun`), else `reads` for a GET or HEAD and `writes` for anything else.
 */
export function rateKindFor(
  route: {
    readonly method: string
    readonly rate?: RateKind | undefined
    readonly rateWhenDryRun?: RateKind | undefined
  },
  dryRun: boolean,
): RateKind {
  if (dryRun && route.rateWhenDryRun) return route.rateWhenDryRun
  if (route.rate) return route.rate
  const method = route.method.toUpperCase()
  return method === 'GET' || method === 'HEAD' ? 'reads' : 'writes'
}

/** The IETF `RateLimit-Policy` and `RateLimit` fields of a decision (draft-ietf-httpapi-ratelimit-headers). */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    'ratelimit-policy': `"${decision.kind}";q=${decision.limit};w=${WINDOW_MS / 1000}`,
    ratelimit: `"${decision.kind}";r=${decision.remaining};t=${decision.resetSeconds}`,
  }
}
