/** The admin API: tenants, their scopes and limits, domain assignments, keys. */
import { z } from '@hono/zod-openapi'
import { TENANT_PATTERN } from '#shared/auth/api-keys.ts'
import { INSTANCE_ID_PATTERN, normalizeDomainName } from '#shared/domain-name.ts'
import { SCOPES } from '#shared/tasks/task.ts'
import { SYSTEM_TENANT } from '#shared/webhooks/webhook-secrets.ts'
import { CallbackUrlSchema, TimestampSchema } from './common-schemas.ts'

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
  .max(256, 'a domain pattern is `*`, a name of at most 253 characters, or `*.` and one')
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

export const perMinute = (what: string) =>
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

export const EndpointHealthSchema = z
  .object({
    endpoint: z.string().openapi({ example: 'https://app.example.com' }),
    failures: z.number().openapi({ description: 'Failed attempts in a row.' }),
    failingSince: TimestampSchema.optional(),
    backoffUntil: TimestampSchema.optional(),
    disabledAt: TimestampSchema.optional(),
    lastError: z.string().optional(),
  })
  .openapi('EndpointHealth')
