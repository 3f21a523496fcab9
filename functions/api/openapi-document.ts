import packageFile from '../../package.json' with { type: 'json' }
import type { App } from './request/context.ts'
import { registerDocumentedRoutes } from './routes/route-document.ts'
import { registerWebhookDocs } from './webhook-docs.ts'

/** The tags, in the order the reference shows them. */
const TAGS = [
  {
    name: 'DS records',
    description:
      'Add, replace and delete single DS records at the registry. Each call is one registry task; the answer is `202` with the task, a webhook follows when it finishes.',
  },
  {
    name: 'Name servers',
    description: 'Change the name servers of up to 100 domains in one registry task.',
  },
  {
    name: 'Sync',
    description: "Push a domain's DS records, or an instance's DNS hosts, to the registry again.",
  },
  {
    name: 'Desired state',
    description:
      'Say what a domain should have (`PUT`), see the plan (`?dryRun=true`), follow the change, and check for drift.',
  },
  {
    name: 'DNSSEC automation',
    description:
      "Keep the registry's DS set equal to the zone's validated CDS/CDNSKEY: KSK rollovers with no human at the registrar.",
  },
  { name: 'Tasks', description: 'Read tasks, their webhook deliveries, and redeliver.' },
  {
    name: 'Events',
    description:
      'Every event sent to the tenant (task, change, domain, DNSSEC, test), by webhook id: list, read, delivery log, redeliver, recover after an outage.',
  },
  {
    name: 'Webhooks',
    description:
      "Every event is POSTed signed (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`) to the callback URL; verify the signature with the API key's `whsec_` secret and deduplicate on `webhook-id`. `POST /webhooks/test` sends a `ping`.",
  },
  {
    name: 'Admin',
    description: 'API keys and their callback endpoints. Needs the `ADMIN_API_KEY`.',
  },
]

const INFO = {
  title: 'domain-gateway',
  version: packageFile.version,
  summary: 'DNSSEC DS records, name servers and DNS-host sync at Alibaba Cloud, with webhooks.',
  description: [
    'Manage DNSSEC DS records, name servers and DNS-host synchronisation of Alibaba Cloud registered domains, and get a signed webhook when each change has really finished.',
    '',
    '* Authenticate with `Authorization: Bearer <key>` (a tenant key `dgw_…`; the admin routes take the `ADMIN_API_KEY`).',
    '* Submitting routes answer `202 Accepted` with the task and `Location: /tasks/{id}`; send an `Idempotency-Key` to make a retry safe.',
    '* Errors are `application/problem+json` (RFC 9457); the problem types are listed at the end of this page.',
    '* Every answer carries `X-Request-Id` (yours, if you send one).',
  ].join('\n'),
  license: {
    name: 'Proprietary: internal use',
    url: 'https://example.invalid/domain-gateway/license',
  },
  contact: { name: 'Platform team' },
}

export type OpenApiDocument = ReturnType<App['getOpenAPI31Document']>

/**
 * The OpenAPI 3.1 document of the app, built once all its route groups are loaded: the routes,
 * the security schemes, and the webhooks (documentation only). The server is `/`: relative to
 * where the document was fetched, i.e. whichever gateway (stage, custom domain, `npm start`)
 * serves it. Loaded with this module at the first `GET /openapi.json`, not at cold start.
 */
export async function openApiDocument(
  app: App,
  loadAllRoutes: () => Promise<void>,
): Promise<OpenApiDocument> {
  await loadAllRoutes()
  registerDocumentedRoutes(app)
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A tenant API key (dgw_…).',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'admin', {
    type: 'http',
    scheme: 'bearer',
    description: 'The ADMIN_API_KEY.',
  })
  registerWebhookDocs(app)
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: INFO,
    servers: [{ url: '/', description: 'The gateway serving this document' }],
    tags: TAGS,
  })
}
