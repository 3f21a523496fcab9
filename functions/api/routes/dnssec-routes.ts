import { z } from '@hono/zod-openapi'
import { scanAndStep } from '#shared/dns/dnssec-service.ts'
import type { DnssecState } from '#shared/dns/dnssec-state.ts'
import { ROLLOVER_PHASES } from '#shared/dns/rollover.ts'
import { ConflictError, NotFoundError } from '#shared/errors.ts'
import type { ApiDeps, App, Principal } from '../context.ts'
import { requireDsTld } from '../ds-tld.ts'
import { json, toResponse } from '../http.ts'
import { CallbackUrlSchema, TimestampSchema } from '../schemas/common-schemas.ts'
import { DsRecordOutSchema } from '../schemas/desired-state-schemas.ts'
import { maySee, requireManager } from '../tenant-scope.ts'
import { routesOf } from './route.ts'
import { answer } from './route-document.ts'

export const DnssecEnrolmentSchema = z
  .strictObject({
    mode: z.enum(['cds', 'off']).openapi({
      description: "cds: keep the DS set equal to the zone's validated CDS/CDNSKEY; off: stop.",
    }),
    bootstrap: z.boolean().default(false).openapi({
      description:
        "Accept an unsigned delegation's first CDS after identical scans over TCP (no RFC 9615 signal is used).",
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
      })
      .optional(),
  })
  .openapi('DnssecState', {
    description:
      "The enrolment, the rollover phase and why it waits, and the last scan: when, per server what was seen, the child's keys, the CDS set, the registry's DS set, what the parent serves.",
  })

const view = (state: DnssecState) => {
  const { version: _version, tenant: _tenant, keyId: _keyId, ...rest } = state
  return rest
}

export function registerDnssecRoutes(app: App, deps: ApiDeps): void {
  const route = routesOf(app, deps)
  /** The domain's enrolment, if the caller may see it (`manage`: also act on it). */
  const enrolment = async (domain: string, principal: Principal, right: 'see' | 'manage') => {
    const state = await deps.dnssecStates.get(domain)
    const visible =
      state &&
      (right === 'manage'
        ? state.tenant === principal.tenant
        : await maySee(deps, principal, domain, [state.tenant]))
    if (!state || !visible) throw new NotFoundError('This domain is not enrolled.')
    if (right === 'manage')
      await requireManager(deps, principal, domain, [state.tenant], { claim: false })
    return state
  }

  route(
    {
      method: 'put',
      path: '/domains/{name}/dnssec',
      operationId: 'setDnssecAutomation',
      tags: ['DNSSEC automation'],
      summary: 'Enrol the domain in CDS/CDNSKEY-driven DS automation (or turn it off)',
      access: ['ds:write'],
      domain: 'see',
      body: { schema: DnssecEnrolmentSchema, required: true },
      responses: { 200: answer('The enrolment.', DnssecStateSchema) },
      problems: [400, 409, 415, 422],
    },
    async (_c, { principal, domain, body }) => {
      if (body.mode === 'cds') requireDsTld(deps, domain)
      const callbackUrl = body.callbackUrl ?? principal.callbackUrl
      if (callbackUrl) await deps.checkCallbackUrl(callbackUrl)
      const [managed, current] = await Promise.all([
        deps.domainStates.get(domain),
        deps.dnssecStates.get(domain),
      ])
      const holders = [managed?.tenant, current?.tenant]
      const grant = await requireManager(deps, principal, domain, holders, { claim: true })
      const next = {
        ...(current ? view(current) : { phase: 'idle' as const }),
        domain,
        tenant: principal.tenant,
        keyId: principal.keyId,
        callbackUrl,
        mode: body.mode,
        bootstrap: body.bootstrap,
        allowDelete: body.allowDelete,
      }
      if (!(await deps.dnssecStates.save(next, current?.version))) {
        await grant.release()
        throw new ConflictError('The enrolment changed meanwhile; try again.')
      }
      return toResponse(json(200, view({ ...next, version: 0 })))
    },
  )

  route(
    {
      method: 'get',
      path: '/domains/{name}/dnssec',
      operationId: 'getDnssecState',
      tags: ['DNSSEC automation'],
      summary: "Where the domain's DNSSEC automation stands",
      access: ['tasks:read'],
      domain: 'see',
      responses: { 200: answer('The state.', DnssecStateSchema) },
      problems: [404],
    },
    async (_c, { principal, domain }) =>
      toResponse(json(200, view(await enrolment(domain, principal, 'see')))),
  )

  route(
    {
      method: 'post',
      path: '/domains/{name}/dnssec/scan',
      operationId: 'scanDnssec',
      tags: ['DNSSEC automation'],
      summary: 'Scan the zone now and take the step it allows',
      access: ['ds:write'],
      domain: 'see',
      responses: { 200: answer("The scan's result and the state after it.", DnssecStateSchema) },
      problems: [404, 409, 502, 503],
    },
    async (c, { principal, domain }) => {
      const state = await enrolment(domain, principal, 'manage')
      if (state.mode !== 'cds') throw new ConflictError('DNSSEC automation is off for this domain.')
      const dnssec = deps.dnssec
      if (!dnssec) throw new ConflictError('DNSSEC automation is not configured.')
      const result = await scanAndStep(dnssec(c.get('logger')), state)
      const after = await enrolment(state.domain, principal, 'manage')
      return toResponse(json(200, { result, state: view(after) }))
    },
  )
}
