/**
 * How the gateway speaks to the Alibaba Cloud Domain API: the endpoint and version, the account's
 * credential, the transport's limits and the service's timestamp rule (built by the composition
 * root from ALIYUN_* and UPSTREAM_RATE_*).
 */
export interface DomainApiSettings {
  readonly endpoint: string
  readonly apiVersion: string
  readonly credentials: {
    readonly accessKeyId: string
    readonly accessKeySecret: string
    readonly securityToken?: string | undefined
  }
  readonly signatureVersion: 'v1' | 'v3'
  readonly method: 'POST' | 'GET'
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  readonly readRetries: number
  readonly maxConnections: number
  /** The service refuses a request whose signed Timestamp is further than this from its clock. */
  readonly timestampWindowMs: number
  /** Largest offset between the service's clock and ours under which writes are sent. */
  readonly maxClockSkewMs: number
  /** The account-wide call rate every worker shares (absent: none). */
  readonly rate?:
    | {
        readonly perSecond: number
        readonly burst: number
        readonly batch: number
        readonly slowForMs: number
      }
    | undefined
}
