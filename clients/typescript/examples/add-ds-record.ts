// Adds a DS record computed from a DNSKEY, then waits for the registry to finish the task.
//   export DOMAIN_GATEWAY_URL=http://127.0.0.1:8080 DOMAIN_GATEWAY_KEY=dgw_…   (npm start prints it)
//   DOMAIN=example.com DNSKEY='257 3 13 mdsswUyr3DPW…' npx tsx clients/typescript/examples/add-ds-record.ts
import { randomUUID } from 'node:crypto'
import { createGatewayClient, waitForTask } from '@domain-gateway/client'

// The same variables as the CLI's.
const {
  DOMAIN_GATEWAY_URL = 'http://127.0.0.1:8080',
  DOMAIN_GATEWAY_KEY = '',
  DOMAIN = '',
  DNSKEY = '',
} = process.env
const missing = Object.entries({ DOMAIN_GATEWAY_KEY, DOMAIN, DNSKEY })
  .filter(([, value]) => value === '')
  .map(([name]) => name)
if (missing.length > 0) {
  console.error(`set ${missing.join(', ')} (npm start prints the export line for the gateway's)`)
  process.exit(2)
}
const gateway = createGatewayClient({ baseUrl: DOMAIN_GATEWAY_URL, apiKey: DOMAIN_GATEWAY_KEY })

const { data: task, error } = await gateway.POST('/domains/{name}/ds', {
  params: {
    path: { name: DOMAIN },
    // The same key on a retry returns the first answer instead of adding the record twice.
    header: { 'Idempotency-Key': randomUUID() },
  },
  body: { dnskey: DNSKEY },
})
if (error) {
  // A problem+json (RFC 9457): `status`, `title`, `detail`, and `errors` for invalid input.
  console.error(`${error.status} ${error.title}: ${error.detail ?? ''}`)
  process.exit(1)
}
console.log(`accepted ${task.id} (${task.status})`)
const done = await waitForTask(gateway, task.id, { intervalMs: 200, timeoutMs: 60_000 })
console.log(`${done.id} ${done.status}`)
process.exit(done.status === 'succeeded' ? 0 : 1)
