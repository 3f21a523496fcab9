import { type ApiKey, activeWebhookSecrets } from '../auth/api-keys.ts'

/** The key id under which scheduled sync tasks are submitted (no API key record exists for it). */
export const SYSTEM_KEY_ID = 'system-sync'
export const SYSTEM_TENANT = 'system'

/**
 * Finds the secrets that sign a task's callbacks: those of the API key that submitted it (both
 * during a rotation's grace period), or the configured secret for scheduled sync tasks. The
 * poller's deliveries read the key with the endpoint's health (`secretsOfKey`, a rotated secret
 * signs at once); this resolver serves the paths without that read.
 */
/** The secrets that sign a key's callbacks now, from the key as just read (the system key's from the environment). */
export function secretsOfKey(
  keyId: string,
  key: ApiKey | undefined,
  now: number,
  systemSecret: string | undefined,
): string[] {
  if (keyId === SYSTEM_KEY_ID) return systemSecret ? [systemSecret] : []
  return key ? activeWebhookSecrets(key, now) : []
}

export function createSecretResolver(
  readKey: (keyId: string) => Promise<ApiKey | undefined>,
  now: () => number,
  systemSecret: string | undefined,
): (keyId: string) => Promise<string[]> {
  return async (keyId) => {
    if (keyId === SYSTEM_KEY_ID) return systemSecret ? [systemSecret] : []
    const key = await readKey(keyId)
    return key ? activeWebhookSecrets(key, now()) : []
  }
}
