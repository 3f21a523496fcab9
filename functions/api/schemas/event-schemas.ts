/** The schemas of the event routes. */
import { z } from '@hono/zod-openapi'
import { ALL_EVENT_TYPES } from '#shared/events/webhook-event.ts'
import { LIMITS, TimestampSchema } from './common-schemas.ts'
import { TaskResourceSchema } from './task-schemas.ts'

export const EventTypeSchema = z.enum(ALL_EVENT_TYPES).openapi('EventType')

export const EventIdSchema = z
  .string()
  .openapi({ description: "The event's webhook id.", example: 'msg_tsk_4fJ9k2LmQp8RtUvWxYz01234' })

/** An instant given by the caller, any ISO 8601 offset, as the gateway writes instants (UTC). */
const SinceSchema = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
  .transform((value) => new Date(value).toISOString())
  .openapi({
    description: 'Only events that happened at or after this time (ISO 8601).',
    example: '2026-11-23T08:00:00Z',
  })

export const EventListQuerySchema = z.strictObject({
  type: EventTypeSchema.optional(),
  since: SinceSchema.optional(),
  order: z.enum(['asc', 'desc']).default('desc').openapi({
    description: 'desc: newest first (the default); asc: oldest first, for following.',
  }),
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
  cursor: z.string().max(2048).optional(),
})

export const EventResourceSchema = z
  .object({
    id: EventIdSchema,
    type: EventTypeSchema,
    timestamp: TimestampSchema.openapi({ description: "When it happened (the body's timestamp)." }),
    subject: z.string().openapi({
      description: "What it is about: a task's or change's id, else its domain, else the tenant.",
      example: 'tsk_4fJ9k2LmQp8RtUvWxYz01234',
    }),
    test: z.boolean().openapi({ description: 'Made by `POST /webhooks/test`, with sample data.' }),
    data: z.record(z.string(), z.unknown()).openapi({
      description: "The body's `data` exactly as delivered (see the `webhooks` of this document).",
    }),
    delivery: TaskResourceSchema.shape.callback,
  })
  .openapi('Event')

export const EventPageSchema = z
  .object({ items: z.array(EventResourceSchema), nextCursor: z.string().optional() })
  .openapi('EventPage')

export const RecoverBodySchema = z
  .strictObject({
    since: SinceSchema.openapi({ description: 'Resend what was not delivered since then.' }),
  })
  .openapi('RecoverInput')

export const RecoverResultSchema = z
  .object({
    scheduled: z
      .array(EventIdSchema)
      .openapi({ description: 'Events scheduled to be sent again.' }),
    examined: z.number().int(),
    complete: z.boolean().openapi({
      description: 'false: more events remain; call again with `since` = `resumeSince`.',
    }),
    resumeSince: TimestampSchema.optional(),
  })
  .openapi('RecoverResult')
