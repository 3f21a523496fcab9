/** Epoch seconds, as DynamoDB TTL and every `expiresAt` want them. */
export const toEpochSeconds = (ms: number): number => Math.floor(ms / 1000)

/** An instant as the API and the stored items show it (ISO 8601, UTC, milliseconds). */
export const iso = (ms: number): string => new Date(ms).toISOString()
