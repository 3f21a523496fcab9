import { z } from '@hono/zod-openapi'
import { ALL_EVENT_TYPES } from '#shared/events/webhook-event.ts'
import { PING_EVENT_TYPE } from '#shared/webhooks/ping-event.ts'
import type { App } from './request/context.ts'
import { TimestampSchema } from './schemas/common-schemas.ts'
import { ChangeResourceSchema, DriftReportSchema } from './schemas/desired-state-schemas.ts'
import { TaskResourceSchema } from './schemas/task-schemas.ts'

/** The Standard Webhooks headers every delivery carries. */
const webhookHeadersSchema = () =>
  z.object({
    'webhook-id': z.string().openapi({
      description: 'The same on every attempt and redelivery of one event: deduplicate on it.',
      example: 'msg_evt_4fJ9k2LmQp8RtUvWxYz01234',
    }),
    'webhook-timestamp': z
      .string()
      .openapi({ description: 'This attempt, Unix seconds.', example: '1795421730' }),
    'webhook-signature': z.string().openapi({
      description: '`v1,<base64 HMAC-SHA256 of id.timestamp.body>`; two during a secret rotation.',
      example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    }),
  })

const taskEventDataSchema = () =>
  TaskResourceSchema.omit({ callback: true, publishedAt: true }).openapi('TaskEventData', {
    description:
      'The finished task as `GET /tasks/{id}` shows it, without `callback` and `publishedAt` (a `publication.served` event tells that).',
  })

const changeEventDataSchema = () =>
  ChangeResourceSchema.omit({
    done: true,
    steps: true,
    progress: true,
    callbackUrl: true,
    updatedAt: true,
    publishedAt: true,
  })
    .extend({
      sequence: sequenceSchema(),
      steps: z.array(z.object({ taskId: z.string(), action: z.string(), status: z.string() })),
    })
    .openapi('ChangeEventData', {
      description: 'The finished change: its plan, desired state, and how each step ended.',
    })

/** `data.sequence` of a domain's change, drift and DNSSEC events. */
const sequenceSchema = () =>
  z.number().int().positive().openapi({
    description:
      "Grows with every event made for the domain: deliveries run concurrently and retries reorder them, so order a domain's events by it (gaps are normal).",
  })

const driftEventDataSchema = () =>
  DriftReportSchema.extend({ sequence: sequenceSchema() }).openapi('DriftEventData', {
    description: 'The drift report, and the domain event number.',
  })

const dnssecEventDataSchema = () =>
  z
    .object({
      domain: z.string(),
      sequence: sequenceSchema(),
      bootstrap: z.enum(['signal', 'scans']).optional().openapi({
        description:
          "On `dnssec.ds.submitted` for a zone's first DS: accepted through the DNS operator's authenticated RFC 9615 signal, or after identical scans over TCP.",
      }),
    })
    .catchall(z.unknown())
    .openapi('DnssecEventData', { description: 'The domain, its event number and what was seen.' })

const publicationEventDataSchema = () =>
  z
    .object({
      taskId: z.string(),
      changeId: z.string().optional(),
      action: z.string(),
      state: z.enum(['published', 'late']),
      domains: z.array(
        z.object({
          domain: z.string(),
          expect: z.record(z.string(), z.unknown()).openapi({
            description:
              'What the parent should serve: `ds-present` (the record), `ds-absent` (no DS with the key tag) or `delegation` (the name servers).',
          }),
          publishedAt: TimestampSchema.optional(),
        }),
      ),
      since: TimestampSchema.openapi({ description: 'When the registry task succeeded.' }),
      publishedAt: TimestampSchema.optional(),
      deadline: TimestampSchema,
      lastCheck: z.object({ at: TimestampSchema, reason: z.string() }).optional(),
      sequence: sequenceSchema(),
    })
    .openapi('PublicationEventData', {
      description: 'A finished task followed at the parent zone: what it expected, and when.',
    })

const pingDataSchema = () =>
  z
    .object({
      tenant: z.string(),
      keyId: z.string().openapi({ description: 'The API key that asked for the test event.' }),
      url: z.string().openapi({ description: 'Where it was sent.' }),
      message: z.string(),
    })
    .openapi('PingEventData')

const DESCRIPTIONS: Record<string, string> = {
  'task.succeeded': 'The registry finished the task; every domain succeeded.',
  'task.failed': 'The registry finished the task and it failed (`error`, `details`).',
  'task.partially_failed': 'A batch finished with some domains failed (see `details`).',
  'task.rejected': 'The task was refused before or at submission (`error.code` says why).',
  'task.unknown':
    'The outcome could not be established (the registry never confirmed the submission either way).',
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
  'publication.served':
    "Every server of the parent zone serves what a succeeded task changed (its DS record, or the delegation); the task's (and, once all its steps are, the change's) `publishedAt` is set.",
  'publication.late':
    'The parent zone did not serve what a succeeded task changed within PUBLICATION_TIMEOUT_MINUTES (sent once; the `ChangesNotPublished` metric counts it). `lastCheck` says what it served.',
  [PING_EVENT_TYPE]:
    'A test event sent by `POST /webhooks/test`: check that the receiver verifies the signature.',
}

interface BuiltSchemas {
  readonly taskEventData: z.ZodType
  readonly changeEventData: z.ZodType
  readonly driftEventData: z.ZodType
  readonly dnssecEventData: z.ZodType
  readonly publicationEventData: z.ZodType
  readonly pingData: z.ZodType
}

/** The schema of an event type's `data`. */
export const dataFor = (type: string, built: BuiltSchemas) =>
  type.startsWith('task.')
    ? built.taskEventData
    : type === PING_EVENT_TYPE
      ? built.pingData
      : type.startsWith('change.')
        ? built.changeEventData
        : type.startsWith('domain.')
          ? built.driftEventData
          : type.startsWith('publication.')
            ? built.publicationEventData
            : built.dnssecEventData

/** The `data` schemas that are built (and named in the document) only when it is generated. */
export const buildEventDataSchemas = (): BuiltSchemas => ({
  taskEventData: taskEventDataSchema(),
  changeEventData: changeEventDataSchema(),
  driftEventData: driftEventDataSchema(),
  dnssecEventData: dnssecEventDataSchema(),
  publicationEventData: publicationEventDataSchema(),
  pingData: pingDataSchema(),
})

/** `task.partially_failed` → `taskPartiallyFailedEvent`. */
const operationIdOf = (type: string) =>
  `${type.replace(/[._](\w)/g, (_match, letter: string) => letter.toUpperCase())}Event`

/**
 * OpenAPI 3.1 `webhooks`: every event a receiver can get, with its body and headers. Its schemas
 * are built here, when the document is first generated, not at cold start.
 */
export function registerWebhookDocs(app: App): void {
  const headers = webhookHeadersSchema()
  const built = buildEventDataSchemas()
  for (const type of ALL_EVENT_TYPES) {
    app.openAPIRegistry.registerWebhook({
      method: 'post',
      path: type,
      operationId: operationIdOf(type),
      tags: ['Webhooks'],
      summary: type,
      description: `${DESCRIPTIONS[type]} Signed with the API key's webhook secret (Standard Webhooks); verify before trusting it.`,
      // Receivers authenticate the gateway by the signature headers, not by a credential.
      security: [],
      request: {
        headers,
        body: {
          content: {
            'application/json': {
              schema: z.object({
                type: z.literal(type),
                timestamp: TimestampSchema,
                data: dataFor(type, built),
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
