import { z } from '@hono/zod-openapi'
import { EVENT_TYPES } from '#shared/events/webhook-event.ts'
import type { App } from './context.ts'
import { ChangeResourceSchema, DriftReportSchema } from './schemas.ts'

/** The Standard Webhooks headers every delivery carries. */
const WebhookHeadersSchema = z.object({
  'webhook-id': z.string().openapi({
    description: 'The same on every attempt and redelivery of one event: deduplicate on it.',
    example: 'msg_evt_4fJ9k2LmQp8RtUvWxYz01234',
  }),
  'webhook-timestamp': z.string().openapi({ description: 'This attempt, Unix seconds.' }),
  'webhook-signature': z.string().openapi({
    description: '`v1,<base64 HMAC-SHA256 of id.timestamp.body>`; two during a secret rotation.',
  }),
})

const DESCRIPTIONS: Record<(typeof EVENT_TYPES)[number], string> = {
  'change.succeeded': 'Every step of a desired-state change succeeded; `data` is the change.',
  'change.failed':
    'A step of a change did not succeed; later steps did not run. `data` is the change.',
  'domain.drifted':
    'The registry no longer matches the applied desired state (sent once per episode); `data` is the drift report.',
  'domain.in_sync':
    'The registry matches the applied desired state again; `data` is the drift report.',
  'dnssec.ds.submitted': "A new DS (from the zone's CDS) was submitted to the registry.",
  'dnssec.ds.published': "The parent zone's servers serve the new DS set.",
  'dnssec.rollover.completed': 'The registry and the parent hold exactly the CDS set.',
  'dnssec.rollover.stuck':
    'A rollover phase has lasted longer than DNSSEC_STUCK_HOURS (sent once).',
  'dnssec.scan.failed': 'A scan of the zone failed (sent once until a scan succeeds again).',
}

const dataFor = (type: (typeof EVENT_TYPES)[number]) =>
  type.startsWith('change.')
    ? ChangeResourceSchema
    : type.startsWith('domain.')
      ? DriftReportSchema
      : z.record(z.string(), z.unknown()).openapi({ description: 'The domain and what was seen.' })

/** OpenAPI 3.1 `webhooks`: the events besides tasks' own, as a receiver gets them. */
export function registerWebhookDocs(app: App): void {
  for (const type of EVENT_TYPES) {
    app.openAPIRegistry.registerWebhook({
      method: 'post',
      path: type,
      summary: type,
      description: DESCRIPTIONS[type],
      request: {
        headers: WebhookHeadersSchema,
        body: {
          content: {
            'application/json': {
              schema: z.object({
                type: z.literal(type),
                timestamp: z.string().openapi({ format: 'date-time' }),
                data: dataFor(type),
              }),
            },
          },
        },
      },
      responses: {
        204: { description: 'Any 2xx acknowledges it; 410 stops retries for this event.' },
      },
    })
  }
}
