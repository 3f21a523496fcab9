/** Desired state: the bodies, plans, changes and drift reports. */
import { z } from '@hono/zod-openapi'
import { CHANGE_STATUSES } from '#shared/changes/change.ts'
import { TASK_ACTION_NAMES, TASK_STATUSES } from '#shared/tasks/task.ts'
import {
  CallbackUrlSchema,
  ForceSchema,
  KeyTagSchema,
  LIMITS,
  TimestampSchema,
} from './common-schemas.ts'
import { SafetySchema } from './safety-schemas.ts'
import {
  DnskeyTextSchema,
  digestLengthMatches,
  dsRecordFields,
  NameServersSchema,
  nameServersMatchAliyunDns,
} from './submission-schemas.ts'

const DesiredDsRecordSchema = z
  .strictObject({ keyTag: KeyTagSchema, ...dsRecordFields })
  .superRefine(digestLengthMatches)
  .openapi('DesiredDsRecord')

const DesiredDnskeySchema = z
  .strictObject({
    dnskey: DnskeyTextSchema,
    digestType: z
      .union([z.literal(1), z.literal(2), z.literal(4)])
      .optional()
      .openapi({ description: 'Digest to compute: 1, 2 (default) or 4.' }),
  })
  .openapi('DesiredDnskey')

export const DesiredDsBodySchema = z
  .strictObject({
    records: z
      .array(z.union([DesiredDsRecordSchema, DesiredDnskeySchema]))
      .max(
        LIMITS.desiredDsRecords,
        `at most ${LIMITS.desiredDsRecords} DS records: the registry holds no more per domain`,
      )
      .openapi({
        description:
          'Every DS record the registry should hold for the domain, nothing else. Records are matched by content (key tag, algorithm, digest type, digest; digests case-insensitive).',
      }),
    allowEmpty: z.boolean().default(false).openapi({
      description:
        'Required with an empty `records`: removing every DS record turns DNSSEC validation off for the domain.',
    }),
    repair: z.boolean().default(false).openapi({
      description: 'When the drift check finds the registry elsewhere, apply this state again.',
    }),
    callbackUrl: CallbackUrlSchema.optional(),
    force: ForceSchema,
  })
  .openapi('DesiredDsInput')

export const DesiredNameServersBodySchema = z
  .strictObject({
    aliyunDns: z.boolean().openapi({
      description: "true: Alibaba Cloud DNS's own servers (no nameServers); false: nameServers.",
    }),
    nameServers: NameServersSchema,
    repair: z.boolean().default(false),
    callbackUrl: CallbackUrlSchema.optional(),
    force: ForceSchema,
  })
  .superRefine((body, ctx) => {
    nameServersMatchAliyunDns(body, ctx)
    const seen = new Set<string>()
    for (const [index, server] of (body.nameServers ?? []).entries()) {
      if (seen.has(server)) {
        ctx.addIssue({
          code: 'custom',
          path: ['nameServers', index],
          message: `${server} is listed twice`,
        })
      }
      seen.add(server)
    }
  })
  .openapi('DesiredNameServersInput')

export const DryRunQuerySchema = z.strictObject({
  dryRun: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'true: answer with the plan only; nothing is written or sent.' }),
})

export const DsRecordOutSchema = z.object({
  keyTag: z.number().int(),
  algorithm: z.number().int(),
  digestType: z.number().int(),
  digest: z.string(),
})

const DsPlanSchema = z
  .object({
    add: z.array(DsRecordOutSchema),
    remove: z.array(DsRecordOutSchema),
    keep: z.array(DsRecordOutSchema),
  })
  .openapi('DsPlan')

const NameServerSetSchema = z.object({
  aliyunDns: z.boolean(),
  nameServers: z.array(z.string()),
})

const NameServerPlanSchema = z
  .object({
    current: NameServerSetSchema,
    desired: NameServerSetSchema,
    add: z.array(z.string()),
    remove: z.array(z.string()),
    keep: z.array(z.string()),
    change: z.boolean(),
  })
  .openapi('NameServerPlan')

export const PlanResponseSchema = z
  .object({ plan: z.union([DsPlanSchema, NameServerPlanSchema]), safety: SafetySchema })
  .openapi('PlanResponse')

export const ChangeResourceSchema = z
  .object({
    id: z.string().openapi({ example: 'chg_4fJ9k2LmQp8RtUvWxYz01234' }),
    domain: z.string(),
    kind: z.enum(['ds', 'name-servers']),
    status: z.enum(CHANGE_STATUSES),
    done: z.boolean(),
    trigger: z.enum(['api', 'repair', 'dnssec']),
    safety: SafetySchema.optional(),
    plan: z.union([DsPlanSchema, NameServerPlanSchema]),
    desired: z.record(z.string(), z.unknown()),
    steps: z.array(z.string()).openapi({ description: 'Task ids, in the order they run.' }),
    progress: z.array(
      z.object({
        taskId: z.string(),
        action: z.enum(TASK_ACTION_NAMES as [string, ...string[]]).optional(),
        status: z.enum(TASK_STATUSES),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    ),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    callbackUrl: z.string().optional(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
    completedAt: TimestampSchema.optional(),
    publishedAt: TimestampSchema.optional().openapi({
      description: 'When the parent zone served what every step changed.',
    }),
  })
  .openapi('Change')

export const DriftReportSchema = z
  .object({
    domain: z.string(),
    inSync: z.boolean(),
    ds: z
      .object({
        inSync: z.boolean(),
        missing: z.array(DsRecordOutSchema),
        unexpected: z.array(DsRecordOutSchema),
      })
      .optional(),
    nameServers: z
      .object({
        inSync: z.boolean(),
        current: NameServerSetSchema,
        desired: NameServerSetSchema,
        missing: z.array(z.string()),
        unexpected: z.array(z.string()),
      })
      .optional(),
    changing: z
      .array(z.string())
      .openapi({ description: 'Kinds with a change still running: not judged until it ends.' }),
    checkedAt: TimestampSchema,
  })
  .openapi('DriftReport')
