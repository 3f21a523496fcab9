/** The bodies of direct submissions: a DS record or DNSKEY, name servers, a DNS batch. */
import { z } from '@hono/zod-openapi'
import { DIGEST_HEX_LENGTH, DIGEST_TYPES, DNSSEC_ALGORITHMS } from '#shared/dns/dnskey.ts'
import {
  CallbackUrlSchema,
  DomainNameSchema,
  ForceSchema,
  HostNameSchema,
  KeyTagSchema,
  LIMITS,
} from './common-schemas.ts'

const ALGORITHM_NUMBERS = DNSSEC_ALGORITHMS as readonly number[]

export const dsRecordFields = {
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

export const digestLengthMatches = (
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
    force: ForceSchema,
  })
  .superRefine(digestLengthMatches)
  .openapi('DsRecordInput', {
    description: 'A DS record given directly. `keyTag` is required on POST.',
  })

/** A DNSKEY as text, from which the DS record is computed. */
export const DnskeyTextSchema = z.string().min(1).max(8192).openapi({
  description:
    'DNSKEY RDATA `<flags> <protocol> <algorithm> <base64 key>`; a zone-file line also works. The key-signing key (flags 257): a key without the SEP flag is refused (send its DS record instead).',
  example:
    '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
})

export const DnskeyBodySchema = z
  .strictObject({
    dnskey: DnskeyTextSchema,
    digestType: z
      .union([z.literal(1), z.literal(2), z.literal(4)])
      .default(2)
      .openapi({ description: 'Digest to compute: 1 SHA-1, 2 SHA-256 (default), 4 SHA-384.' }),
    callbackUrl: CallbackUrlSchema.optional(),
    force: ForceSchema,
  })
  .openapi('DnskeyInput', {
    description: 'A DNSKEY from which the gateway computes the DS record (RFC 4034).',
  })

export const DsBodySchema = z.union([DnskeyBodySchema, DsRecordBodySchema]).openapi('DsInput')

export const NameServersSchema = z
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
export function nameServersMatchAliyunDns(
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

/** `?force=true` on a `DELETE`, which has no body to say it in. */
export const ForceQuerySchema = z.strictObject({
  force: z.enum(['true', 'false']).optional().openapi({
    description:
      "true: delete even when the pre-flight check finds the DS left would validate nothing the zone's servers serve. Recorded on the task.",
  }),
})

/** One DS record of a desired state: given directly, or as a DNSKEY to compute it from. */
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
    force: ForceSchema,
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
