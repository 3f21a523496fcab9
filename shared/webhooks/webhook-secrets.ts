import { type ApiKey, activeWebhookSecrets } from '../auth/api-keys.ts'

/** The key id under which scheduled sync tasks are submitted (no API key record exists for it). */
export const SYSTEM_KEY_ID = 'system-sync'
export const SYSTEM_TENANT = 'system'

/**
 * Finds the secrets that sign a task's callbacks: those of the API key that submitted it (both
 * during a rotation's grace period), or the configured secret for scheduled sync tasks. `readKey`
 * may be a cached lookup (see api-key-cache.ts): a rotation made elsewhere then signs with the new
 * secret within the cache's time; the old one keeps verifying through the grace period meanwhile.
 */
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
