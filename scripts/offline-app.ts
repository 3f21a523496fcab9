import { createApp } from '#functions/api/app.ts'
import { buildApiDeps } from '#functions/api/deps.ts'
import { loadSettings } from '#shared/composition/settings.ts'
import { LOCAL_DEFAULTS } from '#shared/local-defaults.ts'

/**
 * The gateway's API app with placeholder settings, for scripts that need only what it serves
 * without a store or the Domain API (the OpenAPI document, the /docs page). Nothing is contacted
 * until a route that needs a store is called.
 */
export function offlineApp() {
  const env = {
    LOG_LEVEL: 'warn',
    TABLE_NAME: 'domain-gateway',
    ALIYUN_ACCESS_KEY_ID: LOCAL_DEFAULTS.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: LOCAL_DEFAULTS.accessKeySecret,
  }
  return createApp(buildApiDeps(loadSettings(env)))
}
