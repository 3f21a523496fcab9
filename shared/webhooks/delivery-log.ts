export interface DeliveryAttempt {
  readonly attempt: number
  readonly at: string
  readonly url: string
  readonly webhookId: string
  readonly outcome: 'delivered' | 'failed' | 'gone' | 'blocked' | 'interrupted'
  readonly statusCode?: number | undefined
  readonly durationMs?: number | undefined
  readonly error?: string | undefined
  /** At most 2 KB of the receiver's answer. */
  readonly responseSnippet?: string | undefined
  readonly nextAttemptAt?: string | undefined
}

export interface DeliveryLogStore {
  record(taskId: string, attempt: DeliveryAttempt, expiresAt: number): Promise<void>
  list(taskId: string): Promise<DeliveryAttempt[]>
}
