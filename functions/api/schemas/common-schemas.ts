/** What every route shares: limits, names, key tags, instance ids, callback URLs, problems, Idempotency-Key. */
import { z } from '@hono/zod-openapi'
import { MAX_DS_RECORDS } from '#shared/desired/ds-rules.ts'
import { INSTANCE_ID_PATTERN, normalizeDomainName } from '#shared/domain-name.ts'

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

export const domainName = (what: string) =>
  z
    .string()
    // 253 characters, and one trailing dot (RFC 1035's limit in presentation form).
    .max(254, `${what} is longer than 253 characters`)
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

/**
 * `force`: carry out a change that its pre-flight check finds unsafe or cannot verify. The task
 * or change records it, with the verdict.
 */
export const ForceSchema = z.boolean().optional().openapi({
  description:
    "true: carry the change out even when its pre-flight check finds it unsafe (no DS left validates what the zone's servers serve) or cannot ask the servers. Recorded on the task or change (`safety.forced`) and in its events.",
})
