import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { promisify } from 'node:util'
import { serve } from '@hono/node-server'
import { offlineApp } from './offline-app.ts'

/**
 * Opens `/docs` in headless Chromium, as a reader would, and checks what it shows: the reference
 * rendered from the document (the `Task` schema's fields, the webhooks), the problem types, and
 * that nothing was loaded from another origin. Saves a screenshot to dist/docs.png.
 * `npm run check:docs`; CI runs it. Needs `chromium` (Debian package).
 */
const run = promisify(execFile)
const browser = process.env.CHROMIUM ?? 'chromium'
const app = offlineApp()
const requested: string[] = []
const server = serve({
  fetch: (request) => {
    requested.push(new URL(request.url).pathname)
    return app.fetch(request)
  },
  port: 0,
  hostname: '127.0.0.1',
})
await new Promise((resolve) => server.once('listening', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/docs`
const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  // Anything but the gateway itself is unreachable: the page must not need it.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  '--virtual-time-budget=20000',
]
const failures: string[] = []
try {
  await mkdir('dist', { recursive: true })
  const { stdout: dom } = await run(browser, [...flags, '--dump-dom', url], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  })
  await run(browser, [...flags, '--window-size=1440,2400', '--screenshot=dist/docs.png', url], {
    timeout: 120_000,
  })
  const expectations: [string, RegExp][] = [
    ['the reference rendered', /data-rendered="true"/],
    ['the Task schema: upstreamAction', /upstreamAction/],
    ['the Task schema: callback state values', /exhausted/],
    ['the Task schema: completedAt as date-time', /completedAt[\s\S]{0,800}date-time/],
    ['an operation by its summary', /Add a DS record/],
    ['the webhooks section', /task\.succeeded/],
    ['a webhook of the desired-state events', /change\.succeeded/],
    ['the ping event', />ping</],
    ['the Standard Webhooks headers', /webhook-signature/],
    ['the problem types', /id="problem-upstream-busy"/],
  ]
  for (const [what, pattern] of expectations) {
    if (!pattern.test(dom)) failures.push(`/docs does not show ${what} (${pattern})`)
  }
  if (!requested.includes('/docs/redoc.standalone.js') || !requested.includes('/openapi.json')) {
    failures.push(`the page did not load its script and document: ${requested.join(', ')}`)
  }
} finally {
  server.close()
}
if (failures.length > 0) {
  for (const failure of failures) console.error(`✗ ${failure}`)
  process.exit(1)
}
console.log(
  `✓ /docs renders the reference offline (screenshot: dist/docs.png); asked for: ${[...new Set(requested)].join(', ')}`,
)
