import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createApp } from '#functions/api/app.ts'
import { buildApiDeps } from '#functions/api/deps.ts'
import { loadGatewayConfig, loadWorkerConfig } from '#shared/config.ts'
import { LOCAL_DEFAULTS } from '#shared/local-defaults.ts'

/**
 * Writes the gateway's OpenAPI document (what `GET /openapi.json` serves) to a file, default
 * `dist/openapi.json`, for Redocly lint and the typed client. No store or service is contacted.
 */
const out = process.argv[2] ?? 'dist/openapi.json'
const env = {
  LOG_LEVEL: 'warn',
  TABLE_NAME: 'domain-gateway',
  ALIYUN_ACCESS_KEY_ID: LOCAL_DEFAULTS.accessKeyId,
  ALIYUN_ACCESS_KEY_SECRET: LOCAL_DEFAULTS.accessKeySecret,
}
const app = createApp(buildApiDeps(loadGatewayConfig(env), loadWorkerConfig(env)))
const document = await (await app.request('/openapi.json')).json()
await mkdir(dirname(out), { recursive: true })
await writeFile(out, `${JSON.stringify(document, null, 2)}\n`)
console.log(`wrote ${out}`)
