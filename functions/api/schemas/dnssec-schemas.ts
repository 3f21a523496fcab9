/** The schemas of the DNSSEC automation routes: the enrolment and where it stands. */
import { z } from '@hono/zod-openapi'
import { ROLLOVER_PHASES } from '#shared/dnssec-automation/rollover.ts'
import { CallbackUrlSchema, TimestampSchema } from './common-schemas.ts'
import { DsRecordOutSchema } from './desired-state-schemas.ts'

export const DnssecEnrolmentSchema = z
  .strictObject({
    mode: z.enum(['cds', 'off']).openapi({
      description: "cds: keep the DS set equal to the zone's validated CDS/CDNSKEY; off: stop.",
    }),
    bootstrap: z.boolean().default(false).openapi({
      description:
        "Accept an unsigned delegation's first CDS: at once when the DNS operator signals it (RFC 9615: `_dsboot.<domain>._signal.<name server>`, authenticated by a chain of trust, equal to the zone's CDS/CDNSKEY), else after identical scans over TCP.",
    }),
    requireSignal: z.boolean().default(false).openapi({
      description:
        'With bootstrap: accept the first CDS only through an authenticated RFC 9615 signal, never after repeated scans alone.',
    }),
    allowDelete: z.boolean().default(false).openapi({
      description: 'Act on the delete signal (CDS 0 0 0 00): remove every DS, turning DNSSEC off.',
    }),
    callbackUrl: CallbackUrlSchema.optional(),
  })
  .openapi('DnssecEnrolment')

export const DnssecStateSchema = z
  .object({
    domain: z.string(),
    mode: z.enum(['cds', 'off']),
    bootstrap: z.boolean(),
    requireSignal: z.boolean().optional(),
    allowDelete: z.boolean(),
    callbackUrl: z.string().optional(),
    phase: z.enum(ROLLOVER_PHASES).openapi({
      description:
        "idle: the registry holds the zone's CDS set; adding: a new DS is being submitted; awaiting-publication: the parent's servers do not serve the new set yet; awaiting-ttl: they do, the old set's TTL has not passed; removing: the old DS is being removed.",
    }),
    waitReason: z.string().optional().openapi({ description: 'Why the rollover waits, in words.' }),
    phaseSince: TimestampSchema.optional(),
    publishedSince: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'When the parent was first seen serving the new set, epoch ms.' }),
    stuckReported: z.boolean().optional(),
    failureReported: z.boolean().optional(),
    bootstrapScans: z.number().int().optional(),
    bootstrapDigest: z.string().optional(),
    changeId: z.string().optional().openapi({ description: 'The change the last step made.' }),
    lastScan: z
      .object({
        at: TimestampSchema,
        ok: z.boolean(),
        reason: z.string().optional(),
        servers: z.array(
          z.object({
            server: z.string(),
            dnskeys: z.array(z.number().int()).openapi({ description: 'Key tags served.' }),
            cds: z.array(z.string()),
            cdnskey: z.array(z.number().int()),
            error: z.string().optional(),
          }),
        ),
        keys: z.array(
          z.object({
            keyTag: z.number().int(),
            algorithm: z.number().int(),
            flags: z.number().int(),
            sep: z.boolean(),
          }),
        ),
        cds: z.union([z.array(DsRecordOutSchema), z.enum(['delete'])]),
        registry: z.array(DsRecordOutSchema),
        parent: z
          .object({ records: z.array(DsRecordOutSchema), ttlSeconds: z.number().int() })
          .optional(),
        signal: z
          .object({
            ok: z.boolean(),
            reason: z.string().optional(),
            names: z.array(z.string()).optional(),
          })
          .optional()
          .openapi({
            description:
              "While bootstrapping: whether the DNS operator's RFC 9615 signals authenticated the CDS (the signal names), or why not.",
          }),
      })
      .optional(),
  })
  .openapi('DnssecState', {
    description:
      "The enrolment, the rollover phase and why it waits, and the last scan: when, per server what was seen, the child's keys, the CDS set, the registry's DS set, what the parent serves.",
  })
