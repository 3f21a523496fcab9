/** The schemas of the test-webhook route. */
import { z } from '@hono/zod-openapi'
import { CallbackUrlSchema, TimestampSchema } from './common-schemas.ts'

export const TestWebhookBodySchema = z
  .strictObject({
    url: CallbackUrlSchema.optional().openapi({
      description: "Where to send it; the API key's callback URL when absent.",
    }),
  })
  .openapi('TestWebhookInput')

export const TestWebhookResultSchema = z
  .object({
    webhookId: z.string().openapi({ example: 'msg_ping_Xk3mQ9rT2vLp8WzN4bYc7dFh' }),
    url: z.string(),
    at: TimestampSchema,
    outcome: z.enum(['delivered', 'failed', 'gone', 'blocked']).openapi({
      description:
        'delivered: the receiver answered 2xx; failed: another status, a timeout or a network error; gone: 410; blocked: the address policy refused the URL.',
    }),
    statusCode: z.number().int().optional(),
    durationMs: z.number(),
    error: z.string().optional(),
    responseSnippet: z.string().optional().openapi({ description: 'At most 2 KB of the answer.' }),
  })
  .openapi('TestWebhookResult')
