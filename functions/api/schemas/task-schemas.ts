/** Tasks as the API shows them, their lists and the registry's DS records. */

import { z } from '@hono/zod-openapi'
import { CALLBACK_STATES, TASK_ACTION_NAMES, TASK_STATUSES } from '#shared/tasks/task.ts'
import { DomainNameSchema, LIMITS, TimestampSchema } from './common-schemas.ts'
import { SafetySchema } from './safety-schemas.ts'

export const TaskListQuerySchema = z.strictObject({
  status: z.enum(TASK_STATUSES).optional(),
  action: z.enum(TASK_ACTION_NAMES as [string, ...string[]]).optional(),
  domain: DomainNameSchema.optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
  cursor: z.string().max(2048).optional(),
})

const DetailSchema = z.object({
  domain: z.string().optional(),
  instanceId: z.string().optional(),
  status: z.enum(['pending', 'running', 'succeeded', 'failed']),
  error: z.string().optional(),
})

/** What the task asked for, one shape per action (see `action`). */
export const TaskRequestSchema = z
  .union([
    z
      .strictObject({
        domain: z.string(),
        keyTag: z.number().int(),
        algorithm: z.number().int(),
        digestType: z.number().int(),
        digest: z.string(),
      })
      .openapi('DsRecordRequest', { description: '`ds.add` and `ds.modify`: the DS record.' }),
    z
      .strictObject({ domain: z.string(), keyTag: z.number().int() })
      .openapi('DsDeleteRequest', { description: '`ds.delete`: the key tag removed.' }),
    z.strictObject({ domain: z.string() }).openapi('DsSyncRequest', {
      description: '`ds.sync`: the domain whose DS records are synced.',
    }),
    z
      .strictObject({ instanceId: z.string() })
      .openapi('DnsHostSyncRequest', { description: '`dnshost.sync`: the DNS-host instance.' }),
    z
      .strictObject({
        domains: z.array(z.string()),
        aliyunDns: z.boolean(),
        nameServers: z.array(z.string()),
      })
      .openapi('DnsBatchRequest', {
        description: '`dns.batch`: the domains and their new name servers.',
      }),
  ])
  .openapi('TaskRequest')

export const TaskResourceSchema = z
  .object({
    id: z.string(),
    action: z.enum(TASK_ACTION_NAMES as [string, ...string[]]),
    upstreamAction: z.string(),
    status: z.enum(TASK_STATUSES),
    done: z.boolean(),
    domains: z.array(z.string()).optional(),
    instanceId: z.string().optional(),
    request: TaskRequestSchema,
    upstream: z.object({ taskNo: z.string().optional(), requestId: z.string().optional() }),
    details: z.array(DetailSchema),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    queue: z
      .object({
        reason: z.enum(['target-busy', 'upstream-busy', 'after-steps', 'resend']).openapi({
          description:
            "target-busy: another of the gateway's tasks holds one of its domains; upstream-busy: the registry answered TaskIsBeingProcessed (a task started elsewhere) and the gateway retries with backoff; after-steps: a step of a change that waits for its earlier steps; resend: accepted, then proven never to have reached the registry, so it is sent again.",
        }),
        since: TimestampSchema,
        ahead: z
          .number()
          .int()
          .optional()
          .openapi({ description: 'Tasks ahead of it in the busiest of its queues (on GET).' }),
        checks: z.number().int(),
      })
      .optional()
      .openapi({ description: 'Present while the task is `queued`.' }),
    safety: SafetySchema.optional(),
    changeId: z.string().optional().openapi({ description: 'The change this task is a step of.' }),
    resends: z.number().int().optional().openapi({
      description:
        'How many times the gateway sent the task again after proving that an attempt never reached the registry.',
    }),
    search: z
      .object({
        at: TimestampSchema,
        outcome: z.enum(['not-yet', 'inconclusive', 'absent', 'found']),
        reason: z.string().optional(),
        calls: z.number().int(),
      })
      .optional()
      .openapi({
        description:
          "The reconciler's last search upstream while the submission's outcome was unknown (`submitting`): not-yet (nothing found, absence not yet provable), inconclusive (the listing could not be read whole: no verdict, `reason` says why; searched again later), absent (proven never to have reached the registry), found (its registry task adopted). `calls`: upstream calls that search made.",
      }),
    callback: z.object({
      url: z.string().optional(),
      state: z.enum(CALLBACK_STATES).openapi({
        description:
          'none (no callback URL), scheduled (an attempt is due at nextAttemptAt), sending; final: delivered, exhausted (every retry failed), gone (the receiver answered 410), blocked (the address policy refused the URL), disabled (its endpoint was disabled after failing too long).',
      }),
      attempts: z.number(),
      lastAttemptAt: TimestampSchema.optional(),
      nextAttemptAt: TimestampSchema.optional(),
      deliveredAt: TimestampSchema.optional(),
      lastError: z.string().optional(),
    }),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    completedAt: TimestampSchema.optional(),
    publishedAt: TimestampSchema.optional().openapi({
      description:
        "When every server of the parent zone was seen serving what the task changed (its DS record, or the delegation). A registry task's success is not the end: the parent may publish minutes or hours later.",
    }),
  })
  .openapi('Task', {
    description:
      'One submission to the registry and what became of it. Final statuses: succeeded, failed, partially_failed, rejected, unknown (`done` is true).',
    example: {
      id: 'tsk_4fJ9k2LmQp8RtUvWxYz01234',
      action: 'ds.add',
      upstreamAction: 'SaveSingleTaskForAddingDSRecord',
      status: 'succeeded',
      done: true,
      domains: ['example.com'],
      request: {
        domain: 'example.com',
        keyTag: 2371,
        algorithm: 13,
        digestType: 2,
        digest: 'f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598',
      },
      upstream: { taskNo: '9bd0b6a2-6b8f-4b9f-a9a5-2f1c3f0e1d2c', requestId: 'E2A4E5F1-0B2C' },
      details: [{ domain: 'example.com', status: 'succeeded' }],
      callback: {
        url: 'https://app.example.com/hooks/domain-gateway',
        state: 'delivered',
        attempts: 1,
        lastAttemptAt: '2026-11-23T08:15:41.310Z',
        deliveredAt: '2026-11-23T08:15:41.402Z',
      },
      createdAt: '2026-11-23T08:15:30.120Z',
      updatedAt: '2026-11-23T08:15:41.402Z',
      completedAt: '2026-11-23T08:15:40.980Z',
    },
  })

export const TaskPageSchema = z
  .object({ items: z.array(TaskResourceSchema), nextCursor: z.string().optional() })
  .openapi('TaskPage')

export const DsRecordListSchema = z
  .object({
    domain: z.string(),
    records: z.array(
      z.object({
        keyTag: z.number(),
        algorithm: z.number(),
        digestType: z.number(),
        digest: z.string(),
      }),
    ),
  })
  .openapi('DsRecordList')

export const DsSuggestionSchema = z
  .object({
    domain: z.string(),
    source: z.enum(['cds', 'cdnskey', 'dnskey', 'none']).openapi({
      description:
        "Where the records come from: the zone's CDS, its CDNSKEY, or the key-signing keys it serves; `none`: nothing to suggest (see `reason`).",
    }),
    records: z.array(
      z.object({
        keyTag: z.number().int(),
        algorithm: z.number().int(),
        digestType: z.number().int(),
        digest: z.string(),
      }),
    ),
    keys: z.array(
      z.object({ keyTag: z.number().int(), algorithm: z.number().int(), sep: z.boolean() }),
    ),
    servers: z.array(z.string()).openapi({ description: 'The servers asked (`host:port`).' }),
    reason: z.string().optional(),
  })
  .openapi('DsSuggestion')

export const DeliveryAttemptSchema = z
  .object({
    attempt: z.number(),
    at: TimestampSchema,
    url: z.string(),
    webhookId: z.string(),
    outcome: z.enum(['delivered', 'failed', 'gone', 'blocked', 'interrupted']),
    statusCode: z.number().optional(),
    durationMs: z.number().optional(),
    error: z.string().optional(),
    responseSnippet: z.string().optional().openapi({ description: 'At most 2 KB of the answer.' }),
    nextAttemptAt: TimestampSchema.optional(),
  })
  .openapi('DeliveryAttempt')
