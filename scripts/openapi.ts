import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { offlineApp } from './offline-app.ts'

/**
 * Writes the gateway's OpenAPI document (what `GET /openapi.json` serves) to a file, default
 * `dist/openapi.json`, for Redocly lint and the typed client. No store or service is contacted.
 */
const out = process.argv[2] ?? 'dist/openapi.json'
const document = await (await offlineApp().request('/openapi.json')).json()
await mkdir(dirname(out), { recursive: true })
await writeFile(out, `${JSON.stringify(document, null, 2)}\n`)
console.log(`wrote ${out}`)
