/** Whom the gateway may call back, and how (built by the composition root from CALLBACK_*). */
export interface CallbackSettings {
  /** Addresses (CIDRs) a callback may reach beyond the public internet. */
  readonly allowlist: readonly string[]
  readonly allowLoopback: boolean
  /** `http:` callback URLs are allowed (local development); `https:` only otherwise. */
  readonly allowHttp: boolean
  /** How long one attempt may take. */
  readonly timeoutMs: number
  /** The waits between attempts (Standard Webhooks' schedule). */
  readonly retryDelaysMs: readonly number[]
  /** ± share of each wait picked at random. */
  readonly jitter: number
  /** Deliveries in flight at once in one run, to one endpoint, and for one tenant. */
  readonly concurrency: number
  readonly perEndpoint: number
  readonly perTenant: number
  /** An endpoint failing without a success for this long is disabled. */
  readonly disableAfterMs: number
}
