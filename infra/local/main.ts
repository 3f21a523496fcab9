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
  curl -s -X POST ${base}/domains/example.com/ds \\
    -H 'Authorization: Bearer ${stack.devKey}' \\
    -H 'Content-Type: application/json' -H 'Idempotency-Key: first-try' \\
    -d '{"keyTag":2371,"algorithm":13,"digestType":2,"digest":"f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598"}'
  curl -s ${base}/tasks -H 'Authorization: Bearer ${stack.devKey}'
The task finishes in a few seconds and its signed callback is printed here.

A key rollover as one desired state (plan it first with ?dryRun=true):
  curl -s -X PUT ${base}/domains/example.com/ds \\
    -H 'Authorization: Bearer ${stack.devKey}' -H 'Content-Type: application/json' \\
    -d '{"records":[{"keyTag":40001,"algorithm":13,"digestType":2,"digest":"9c1e5a0f3e7d4b6c8a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"}]}'
`)

async function shutdown() {
  await stack.stop()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
