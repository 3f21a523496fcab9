/** Where the gateway's table is and how it is used (built by the composition root). */
export interface StoreSettings {
  readonly tableName: string
  readonly endpoint: string | undefined
  readonly region: string
  readonly dueShards: number
  readonly taskRetentionMs: number
  /** Attempts per DynamoDB request, retries included. */
  readonly maxAttempts: number
}
