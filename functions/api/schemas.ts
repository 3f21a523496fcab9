import { z } from '@hono/zod-openapi'
import { TENANT_PATTERN } from '#shared/auth/api-keys.ts'
import { CHANGE_STATUSES } from '#shared/changes/change.ts'
import { MAX_DS_RECORDS } from '#shared/desired/ds-rules.ts'
import { DIGEST_HEX_LENGTH, DIGEST_TYPES, DNSSEC_ALGORITHMS } from '#shared/dnssec.ts'
import { INSTANCE_ID_PATTERN, normalizeDomainName } from '#shared/domain-name.ts'
import { CALLBACK_STATES, SCOPES, TASK_ACTION_NAMES, TASK_STATUSES } from '#shared/tasks/task.ts'
import { SYSTEM_TENANT } from '#shared/webhooks/webhook-secrets.ts'

/** Documented limits. */
export const LIMITS = {
  batchDomains: 100,
  nameServersMin: 2,
  nameServersMax: 13,
  callbackUrlLength: 2048,
  idempotencyKeyLength: 255,
  pageSizeMax: 100,
  pageSizeDefault: 20,
  /** The registry holds at most this many DS records per domain (desired/ds-rules.ts). */
  desiredDsRecords: MAX_DS_RECORDS,
} as const

/** An instant the gateway reports: ISO 8601 in UTC with milliseconds. */
export const TimestampSchema = z
  .string()
  .openapi({ format: 'date-time', example: '2026-11-23T08:15:30.120Z' })

const domainName = (what: string) =>
  z
    .string()
    .max(1024)
    .transform((value, ctx) => {
      const normalized = normalizeDomainName(value)
      if (normalized.ok) return normalized.value
      ctx.addIssue({ code: 'custom', message: `${what} ${normalized.reason}` })
      return z.NEVER
    })

export const DomainNameSchema = domainName('the domain name').openapi({
  description:
    'A registered domain. Trimmed, one trailing dot removed, IDN converted to punycode, lower-cased.',
  example: 'example.com',
})

export const HostNameSchema = domainName('the name server').openapi({ example: 'ns1.example.net' })

export const KeyTagSchema = z
  .number({ message: 'the key tag must be a number' })
  .int('the key tag must be an integer')
  .min(0, 'the key tag must be 0 to 65535')
  .max(65_535, 'the key tag must be 0 to 65535')
  .openapi({ example: 2371 })

/** A key tag in a path: decimal digits only (no `1e3`, no `0x10`). */
export const KeyTagPathSchema = z
  .string()
  .regex(/^\d{1,5}$/, 'the key tag must be a number 0 to 65535')
  .transform(Number)
  .pipe(KeyTagSchema)
  .openapi({ type: 'integer', example: 2371 })

export const InstanceIdSchema = z
  .string()
  .regex(INSTANCE_ID_PATTERN, 'the instance id must look like ST2017120814571100001303')
  .openapi({ example: 'ST2017120814571100001303' })

export const CallbackUrlSchema = z
  .url({ protocol: /^https?$/, message: 'the callback URL must be an absolute http(s) URL' })
  .max(LIMITS.callbackUrlLength)
  .openapi({
    description:
      'Where to POST the signed webhook when the task finishes. Overrides the key default. HTTPS unless the gateway allows HTTP.',
    example: 'https://app.example.com/hooks/domain-gateway',
  })

const ALGORITHM_NUMBERS = DNSSEC_ALGORITHMS as readonly number[]

const dsRecordFields = {
  algorithm: z
    .number()
    .int()
    .refine((value) => ALGORITHM_NUMBERS.includes(value), {
      message: `the algorithm must be one of ${DNSSEC_ALGORITHMS.join(', ')}`,
    })
    .openapi({ example: 13 }),
  digestType: z
    .number()
    .int()
    .refine((value) => (DIGEST_TYPES as readonly number[]).includes(value), {
      message: 'the digest type must be 1 (SHA-1), 2 (SHA-256), 3 (GOST) or 4 (SHA-384)',
    })
    .openapi({ example: 2 }),
  digest: z
    .string()
    .regex(/^[0-9a-fA-F]+$/, 'the digest must be hexadecimal')
    .transform((value) => value.toLowerCase())
    .openapi({ example: 'f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598' }),
}

const digestLengthMatches = (
  record: { digestType: number; digest: string },
  ctx: z.RefinementCtx,
) => {
  const expected = DIGEST_HEX_LENGTH[record.digestType]
  if (expected !== undefined && record.digest.length !== expected) {
    ctx.addIssue({
      code: 'custom',
      path: ['digest'],
      message: `a digest of type ${record.digestType} has ${expected} hex characters, not ${record.digest.length}`,
    })
  }
}

export const DsRecordBodySchema = z
  .strictObject({
    keyTag: KeyTagSchema.optional(),
    ...dsRecordFields,
    callbackUrl: CallbackUrlSchema.optional(),
  })
  .superRefine(digestLengthMatches)
  .openapi('DsRecordInput', {
    description: 'A DS record given directly. `keyTag` is required on POST.',
  })

export const DnskeyBodySchema = z
  .strictObject({
    dnskey: z.string().min(1).max(8192).openapi({
      description:
        'DNSKEY RDATA `<flags> <protocol> <algorithm> <base64 key>`; a zone-file line also works.',
      example:
        '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
    }),
    digestType: z
      .union([z.literal(1), z.literal(2), z.literal(4)])
      .default(2)
      .openapi({ description: 'Digest to compute: 1 SHA-1, 2 SHA-256 (default), 4 SHA-384.' }),
    callbackUrl: CallbackUrlSchema.optional(),
  })
  .openapi('DnskeyInput', {
    description: 'A DNSKEY from which the gateway computes the DS record (RFC 4034).',
  })

export const DsBodySchema = z.union([DnskeyBodySchema, DsRecordBodySchema]).openapi('DsInput')

const NameServersSchema = z
  .array(HostNameSchema)
  .min(
    LIMITS.nameServersMin,
    `list ${LIMITS.nameServersMin} to ${LIMITS.nameServersMax} name servers`,
  )
  .max(
    LIMITS.nameServersMax,
    `list ${LIMITS.nameServersMin} to ${LIMITS.nameServersMax} name servers`,
  )
  .optional()

/** `aliyunDns=false` needs name servers; `aliyunDns=true` takes none. */
function nameServersMatchAliyunDns(
  body: { aliyunDns: boolean; nameServers?: string[] | undefined },
  ctx: z.RefinementCtx,
): void {
  if (!body.aliyunDns && !body.nameServers) {
    ctx.addIssue({
      code: 'custom',
      path: ['nameServers'],
      message: 'aliyunDns=false needs nameServers',
    })
  }
  if (body.aliyunDns && body.nameServers) {
    ctx.addIssue({
      code: 'custom',
      path: ['nameServers'],
      message: 'aliyunDns=true takes no nameServers',
    })
  }
}

/** One DS record of a desired state: given directly, or as a DNSKEY to compute it from. */
export const DesiredDsRecordSchema = z
  .strictObject({ keyTag: KeyTagSchema, ...dsRecordFields })
  .superRefine(digestLengthMatches)
  .openapi('DesiredDsRecord')

export const DesiredDnskeySchema = z
  .strictObject({
    dnskey: z.string().min(1).max(8192).openapi({
      description: 'DNSKEY RDATA `<flags> <protocol> <algorithm> <base64 key>`.',
    }),
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

export const DsPlanSchema = z
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

export const NameServerPlanSchema = z
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
  .object({ plan: z.union([DsPlanSchema, NameServerPlanSchema]) })
  .openapi('PlanResponse')

export const ChangeResourceSchema = z
  .object({
    id: z.string().openapi({ example: 'chg_4fJ9k2LmQp8RtUvWxYz01234' }),
    domain: z.string(),
    kind: z.enum(['ds', 'name-servers']),
    status: z.enum(CHANGE_STATUSES),
    done: z.boolean(),
    trigger: z.enum(['api', 'repair', 'dnssec']),
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

export const CallbackOnlyBodySchema = z
  .strictObject({ callbackUrl: CallbackUrlSchema.optional() })
  .openapi('CallbackOptions')

export const DnsBatchBodySchema = z
  .strictObject({
    domains: z
      .array(DomainNameSchema)
      .min(1, 'list at least one domain')
      .max(LIMITS.batchDomains, `at most ${LIMITS.batchDomains} domains per batch`),
    aliyunDns: z.boolean().openapi({
      description: 'true: switch to Alibaba Cloud DNS (no nameServers); false: use nameServers.',
    }),
    nameServers: NameServersSchema,
    callbackUrl: CallbackUrlSchema.optional(),
  })
  .superRefine((body, ctx) => {
    nameServersMatchAliyunDns(body, ctx)
    for (const [field, values] of [
      ['domains', body.domains],
      ['nameServers', body.nameServers ?? []],
    ] as const) {
      const seen = new Set<string>()
      values.forEach((value, index) => {
        if (seen.has(value)) {
          ctx.addIssue({
            code: 'custom',
            path: [field, index],
            message: `${value} is listed twice`,
          })
        }
        seen.add(value)
      })
    }
  })
  .openapi('DnsBatchInput')

export const IdempotencyKeyHeaderSchema = z
  .string()
  .min(1)
  .max(LIMITS.idempotencyKeyLength)
  .regex(/^[\x21-\x7e]+$/, 'the Idempotency-Key must be printable ASCII without spaces')
  .openapi({
    param: { name: 'Idempotency-Key', in: 'header' },
    description:
      'Makes the request safe to retry: the same key and body return the first response for as long as the task it created is kept (409 while it runs, 422 with another body).',
  })

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

export const TaskResourceSchema = z
  .object({
    id: z.string(),
    action: z.enum(TASK_ACTION_NAMES as [string, ...string[]]),
    upstreamAction: z.string(),
    status: z.enum(TASK_STATUSES),
    done: z.boolean(),
    domains: z.array(z.string()).optional(),
    instanceId: z.string().optional(),
    request: z.record(z.string(), z.unknown()),
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
        record: {
          keyTag: 2371,
          algorithm: 13,
          digestType: 2,
          digest: 'f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598',
        },
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

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    upstreamCode: z.string().optional().openapi({
      description: "The registry's error code, when the problem comes from the registry.",
      example: 'Throttling.User',
    }),
    upstreamRequestId: z.string().optional().openapi({
      description:
        "The registry's RequestId of the failed call: quote it to Alibaba Cloud support.",
    }),
    taskId: z.string().optional().openapi({
      description: 'The task the problem belongs to (when one was written).',
    }),
  })
  .openapi('Problem', {
    description: 'An error (RFC 9457). `type` links to the problem types on /docs.',
    example: {
      type: '/docs#problem-invalid-request',
      title: 'Invalid request',
      status: 422,
      detail: 'body.digest: a digest of type 2 has 64 hex characters, not 63',
      instance: '/domains/example.com/ds',
      errors: [
        { path: 'body.digest', message: 'a digest of type 2 has 64 hex characters, not 63' },
      ],
    },
  })

/** A tenant's name; `system` is the scheduled syncs' own and cannot be given to a key. */
export const TenantNameSchema = z
  .string()
  .regex(TENANT_PATTERN, 'the tenant is 1-63 lower-case letters, digits, ".", "_" or "-"')
  .refine((tenant) => tenant !== SYSTEM_TENANT, {
    message: `"${SYSTEM_TENANT}" is reserved for the gateway's own scheduled syncs`,
  })
  .openapi({ example: 'billing-app' })

/** A domain pattern of a tenant's scope: a name, `*.` and a name (every name below it), or `*`. */
const DomainPatternSchema = z
  .string()
  .max(1024)
  .transform((value, ctx) => {
    const trimmed = value.trim()
    if (trimmed === '*') return trimmed
    const suffix = trimmed.startsWith('*.')
    const normalized = normalizeDomainName(suffix ? trimmed.slice(2) : trimmed)
    if (normalized.ok) return suffix ? `*.${normalized.value}` : normalized.value
    ctx.addIssue({ code: 'custom', message: `the domain pattern ${normalized.reason}` })
    return z.NEVER
  })
  .openapi({ example: '*.example.com' })

const perMinute = (what: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .optional()
    .openapi({ description: `${what} per minute (0: unlimited; unset: the gateway's default).` })

/** A tenant's own request rates; each unset kind has the gateway's `RATE_LIMIT_*`. */
const TenantLimitsSchema = z
  .strictObject({
    writes: perMinute('Submissions, desired-state writes, enrolments and other writes'),
    upstreamReads: perMinute(
      'Requests that read Alibaba Cloud: registry reads, drift, dry-run plans, DNSSEC scans',
    ),
    reads: perMinute('Other reads (tasks, changes, deliveries, states)'),
    redeliveries: perMinute('Redelivery requests'),
  })
  .openapi('TenantLimits', {
    description:
      "The tenant's requests per minute by kind, shared by every API instance; a request over a limit is answered 429 with `Retry-After`, `RateLimit-Policy` and `RateLimit`.",
  })

export const TenantScopeBodySchema = z
  .strictObject({
    domains: z.array(DomainPatternSchema).max(1_000).openapi({
      description:
        'The domains the tenant may act on: exact names (`example.com`), every name below a suffix (`*.example.com`, which does not include `example.com` itself), or `*` for all.',
    }),
    instances: z
      .array(
        z.union([
          z.literal('*'),
          z.string().regex(INSTANCE_ID_PATTERN, 'an instance id must look like ST2017…'),
        ]),
      )
      .max(1_000)
      .default([])
      .openapi({ description: 'The DNS-host instance ids the tenant may sync, or `*` for all.' }),
    limits: TenantLimitsSchema.optional(),
  })
  .openapi('TenantScopeInput')

export const TenantScopeSchema = z
  .object({
    tenant: z.string(),
    domains: z.array(z.string()),
    instances: z.array(z.string()),
    limits: TenantLimitsSchema.optional(),
    updatedAt: TimestampSchema,
  })
  .openapi('TenantScope')

export const DomainAssignmentBodySchema = z
  .strictObject({
    manager: TenantNameSchema.openapi({
      description:
        "The tenant whose keys set the domain's desired state and DNSSEC automation; another tenant's desired state or enrolment of the domain becomes this tenant's at its next write.",
    }),
    sharedWith: z.array(TenantNameSchema).max(100).default([]).openapi({
      description:
        'Tenants whose keys may also submit changes to the domain (`POST /domains/{name}/ds`, `DELETE …`, `/dns-batch`) and read its desired state, drift and enrolment.',
    }),
  })
  .openapi('DomainAssignmentInput')

export const DomainAssignmentSchema = z
  .object({
    domain: z.string(),
    manager: z.string(),
    sharedWith: z.array(z.string()),
    assignedBy: z.enum(['admin', 'first-write']).openapi({
      description:
        '`first-write`: claimed by the first desired-state write or enrolment (under `TENANT_SCOPES=open`); the admin may reassign it.',
    }),
    updatedAt: TimestampSchema,
  })
  .openapi('DomainAssignment')

export const CreateKeyBodySchema = z
  .strictObject({
    tenant: TenantNameSchema,
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    callbackUrl: CallbackUrlSchema.optional(),
  })
  .openapi('CreateKeyInput')

export const RotateSecretBodySchema = z
  .strictObject({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(86_400)
      .openapi({
        description: 'How long the old secret keeps signing (alongside the new one). Default 24 h.',
      }),
  })
  .openapi('RotateSecretInput')

export const KeySummarySchema = z
  .object({
    id: z.string(),
    tenant: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    callbackUrl: z.string().optional(),
    createdAt: TimestampSchema,
    revokedAt: TimestampSchema.optional(),
    webhookSecrets: z
      .number()
      .openapi({ description: 'How many webhook secrets sign callbacks now.' }),
  })
  .openapi('ApiKey')

export const CreatedKeySchema = z
  .object({
    id: z.string(),
    key: z.string().openapi({ description: 'Shown only here. Store it; it cannot be read again.' }),
    tenant: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    callbackUrl: z.string().optional(),
    webhookSecret: z.string().openapi({ description: 'whsec_… Shown only here.' }),
  })
  .openapi('CreatedApiKey')
