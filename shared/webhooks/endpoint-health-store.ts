import type { ApiKey } from '../auth/api-keys.ts'

/**
 * How one callback endpoint (an API key's callbacks to one URL origin) is doing. Absent while all
 * is well; written only when a delivery fails, or succeeds after failures.
 */
export interface EndpointHealth {
  readonly keyId: string
  /** The endpoint: the callback URL's origin. */
  readonly endpoint: string
  /** Failed attempts in a row, across all of the key's tasks to this endpoint. */
  readonly failures: number
  /** When the current run of failures began. */
  readonly failingSince?: string | undefined
  /** Until when no delivery to the endpoint is attempted, epoch ms. */
  readonly backoffUntil?: number | undefined
  /** Set when the endpoint has failed for too long; cleared only by an admin. */
  readonly disabledAt?: string | undefined
  readonly lastError?: string | undefined
  readonly version: number
}

export interface EndpointHealthStore {
  get(keyId: string, endpoint: string): Promise<EndpointHealth | undefined>
  /**
   * The endpoint's health and the API key whose secrets sign its callbacks, in one consistent
   * read: a delivery signs with the key as it is now (a rotated secret at once), at no extra cost.
   */
  getWithKey(
    keyId: string,
    endpoint: string,
  ): Promise<{ health: EndpointHealth | undefined; key: ApiKey | undefined }>
  /** Writes if still at `expectedVersion` (undefined: not yet written). */
  save(next: Omit<EndpointHealth, 'version'>, expectedVersion: number | undefined): Promise<boolean>
  list(keyId: string): Promise<EndpointHealth[]>
}
