/** The pre-flight verdict of a change, as refused (409), planned (dry run) and recorded. */
import { z } from '@hono/zod-openapi'

const VERDICTS = ['safe', 'insecure', 'unsafe', 'unverified'] as const

const DsOutSchema = z.object({
  keyTag: z.number().int(),
  algorithm: z.number().int(),
  digestType: z.number().int(),
  digest: z.string(),
})

const ServerEvidenceSchema = z
  .object({
    nameServer: z.string().openapi({
      description:
        'The name server asked (for servers set by `DNS_SERVER_OVERRIDES` for a zone: the zone).',
    }),
    address: z.string().openapi({ example: '192.0.2.53:53' }),
    transport: z.enum(['tcp', 'udp', 'tcp+udp']).openapi({
      description: 'Each address is asked over TCP and UDP; one entry when both answers agree.',
    }),
    outcome: z.enum(['validates', 'not-validated', 'unchecked', 'unanswered']),
    keys: z
      .array(z.object({ keyTag: z.number().int(), algorithm: z.number().int(), sep: z.boolean() }))
      .openapi({ description: 'The DNSKEYs it serves at the apex (`sep`: a key-signing key).' }),
    signed: z.boolean().openapi({ description: 'Whether its DNSKEY RRset carries an RRSIG.' }),
    validatedBy: z.number().int().optional().openapi({
      description: 'The key tag of the DS-matched key whose RRSIG over the DNSKEY RRset verified.',
    }),
    problem: z.string().optional(),
  })
  .openapi('PreflightServer')

export const SafetySchema = z
  .object({
    verdict: z.enum(VERDICTS).openapi({
      description:
        '`safe`: a DS left validates what every server serves; `insecure`: no DS is left (the zone is unsigned at the parent, not broken); `unsafe`: some server would be validated by no DS (SERVFAIL for the zone); `unverified`: some server could not be asked or checked.',
    }),
    reason: z.string(),
    checkedAt: z.string(),
    forced: z.boolean().optional().openapi({
      description: 'The caller sent `force`: carried out whatever the verdict.',
    }),
    domains: z.array(
      z.object({
        domain: z.string(),
        verdict: z.enum(VERDICTS),
        reason: z.string(),
        dsAfter: z.array(DsOutSchema).openapi({
          description: 'The DS set the registry holds after the change.',
        }),
        servers: z.array(ServerEvidenceSchema),
      }),
    ),
  })
  .openapi('Safety', {
    description:
      'The change\'s pre-flight check: its end state against what the servers that will answer for the zone serve (see the API reference, "Safe by default").',
  })
