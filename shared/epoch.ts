/** Epoch seconds, as DynamoDB TTL and every `expiresAt` want them. */
export const toEpochSeconds = (ms: number): number => Math.floor(ms / 1000)
