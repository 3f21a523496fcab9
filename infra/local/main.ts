import { LocalStartError } from './listen-port.ts'
import { startLocalStack } from './local-stack.ts'

const stack = await startLocalStack(process.env).catch((error: unknown) => {
  if (!(error instanceof LocalStartError)) throw error
  console.error(`npm start: ${error.message}`)
  process.exit(1)
})
const base = stack.apiUrl
console.log(`
domain-gateway is running locally
  API             ${base}   (docs: ${base}/docs)
  Domain API      ${stack.aliyunEndpoint}${stack.emulated ? '   (emulator)' : ''}
  DynamoDB        ${stack.dynamoDbEndpoint}   (${stack.dynamoDbNote})
  Callbacks       ${stack.receiver ? `${stack.receiver.url}   (printed below as they arrive)` : 'not received here (PRINT_CALLBACKS=false)'}
  API key         ${stack.devKey}   (tenant ${stack.devTenant}, all scopes)
  Webhook secret  ${stack.devWebhookSecret}
  Admin key       ${stack.adminKeyGenerated ? stack.adminApiKey : '(from ADMIN_API_KEY)'}

For the CLI (npx domain-gateway …) and the typed client's example, in another shell:
  export DOMAIN_GATEWAY_URL=${base} DOMAIN_GATEWAY_KEY=${stack.devKey}${stack.adminKeyGenerated ? ` DOMAIN_GATEWAY_ADMIN_KEY=${stack.adminApiKey}` : ''}

Try it:
${tryIt(stack)}
`)

/** The first steps: on a demo zone the safety checks and the DNSSEC automation meet real DNS. */
function tryIt(running: typeof stack): string {
  const auth = `-H 'Authorization: Bearer ${running.devKey}' -H 'Content-Type: application/json'`
  const [signed, rollover] = running.demoZones
  if (!signed || !rollover) {
    return `  curl -s -X POST ${base}/domains/example.com/ds ${auth} \\
    -d '{"keyTag":2371,"algorithm":13,"digestType":2,"digest":"f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598"}'
  curl -s ${base}/tasks -H 'Authorization: Bearer ${running.devKey}'`
  }
  return `  ${signed.zone} and ${rollover.zone} are served signed by a local DNS server (ns1.demo-dns.test).
  npx domain-gateway ds suggest ${signed.zone}              # the DS its CDS asks for
  # A DS for a key the zone does not serve: refused (409), with what each server serves.
  curl -s -X POST ${base}/domains/${signed.zone}/ds ${auth} \\
    -d '{"keyTag":2371,"algorithm":13,"digestType":2,"digest":"f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598"}'
  # Its real key: accepted (202); the task succeeds, then the parent zone serves it (publishedAt).
  curl -s -X POST ${base}/domains/${signed.zone}/ds ${auth} -H 'Idempotency-Key: first-try' \\
    -d '{"dnskey":"${signed.dnskey}"}'
  curl -s ${base}/tasks -H 'Authorization: Bearer ${running.devKey}'
  # Moving it to a provider that serves it unsigned: refused ("force": true would carry it out).
  curl -s -X POST ${base}/dns-batch ${auth} \\
    -d '{"domains":["${signed.zone}"],"aliyunDns":false,"nameServers":["ns1.plain-dns.test","ns2.plain-dns.test"]}'
  # DNSSEC automation that scans a zone for real: its CDS bootstraps the first DS.
  curl -s -X PUT ${base}/domains/${rollover.zone}/dnssec ${auth} -d '{"mode":"cds","bootstrap":true}'
Each task's signed callback is printed here.`
}

async function shutdown() {
  await stack.stop()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
