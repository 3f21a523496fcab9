import { activeWebhookSecrets } from '../auth/api-keys.ts'
import type { ApiKeyStore } from '../store/api-key-store.ts'

/** The key id under which scheduled sync tasks are submitted (no API key record exists for it). */
export const SYSTEM_KEY_ID = 'system-sync'
export const SYSTEM_TENANT = 'system'

/**
 * Finds the secrets that sign a task's callbacks: those of the API key that submitted it (both
 * during a rotation's grace period), or the configured secret for scheduled sync tasks.
 */
export function createSecretResolver(
  apiKeys: ApiKeyStore,
  now: () => number,
  systemSecret: string | undefined,
): (keyId: string) => Promise<string[]> {
  return async (keyId) => {
    if (keyId === SYSTEM_KEY_ID) return systemSecret ? [systemSecret] : []
    const key = await apiKeys.get(keyId)
    return key ? activeWebhookSecrets(key, now()) : []
  }
}
