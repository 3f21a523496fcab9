/** The schemas of the test-webhook route. */
import { z } from '@hono/zod-openapi'
import { CallbackUrlSchema, TimestampSchema } from './common-schemas.ts'
import { EventTypeSchema } from './event-schemas.ts'

export const TestWebhookBodySchema = z
  .strictObject({
    type: EventTypeSchema.default('ping').openapi({
      description:
        'The event type to send, its `data` a sample built like the real ones (default `ping`).',
    }),
    url: CallbackUrlSchema.optional().openapi({
      description:
        "Where to send it; the API key's callback URL when absent. With neither, the event is only stored (`domain-gateway listen` forwards it).",
    }),
  })
  .openapi('TestWebhookInput')

export const TestWebhookResultSchema = z
  .object({
    webhookId: z.string().openapi({
      description: "The event's id (`GET /events/{id}`), sent as `webhook-id`.",
      example: 'msg_evt_Xk3mQ9rT2vLp8WzN4bYc7dFh',
    }),
    type: EventTypeSchema,
    url: z.string().optional(),
    at: TimestampSchema,
    outcome: z.enum(['delivered', 'failed', 'gone', 'blocked', 'stored']).openapi({
      description:
        'delivered: the receiver answered 2xx; failed: another status, a timeout or a network error; gone: 410; blocked: the address policy refused the URL; stored: no URL, the event is only kept. Sent once: `POST /events/{id}/redeliver` sends it again.',
    }),
    statusCode: z.number().int().optional(),
    durationMs: z.number(),
    error: z.string().optional(),
    responseSnippet: z.string().optional().openapi({ description: 'At most 2 KB of the answer.' }),
  })
  .openapi('TestWebhookResult')
