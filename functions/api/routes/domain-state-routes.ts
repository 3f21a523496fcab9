import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { CHANGE_ID_PATTERN, isAccepted, toChangeResource } from '#shared/changes/change.ts'
import type { ChangeRequest } from '#shared/changes/change-request.ts'
import { planChange } from '#shared/changes/plan-change.ts'
import { startChange } from '#shared/changes/start-change.ts'
import { measureDrift } from '#shared/desired/drift.ts'
import { UnplannableError } from '#shared/desired/plan.ts'
import { DnskeyError, type DsRecord, dsFromDnskey, parseDnskey } from '#shared/dnssec.ts'
import { NotFoundError, RequestValidationError } from '#shared/errors.ts'
import { requireScope } from '../auth.ts'
import { changeDepsFor } from '../change-deps.ts'
import type { ApiDeps, App, AppEnv, Principal } from '../context.ts'
import { requireDsTld } from '../ds-tld.ts'
import { json, jsonBody, toResponse } from '../http.ts'
import { DomainNameSchema } from '../schemas/common-schemas.ts'
import {
  ChangeResourceSchema,
  DesiredDsBodySchema,
  DesiredNameServersBodySchema,
  DriftReportSchema,
  DryRunQuerySchema,
  PlanResponseSchema,
} from '../schemas/desired-state-schemas.ts'
import { domainInPath, maySee, requireManager } from '../tenant-scope.ts'
import { parseOrThrow } from '../validate.ts'
import { defineRoute, problemResponses } from './define.ts'

const planOrChangeResponses = {
  200: {
    description: 'With `dryRun=true`: the plan against what the registry holds now.',
    content: { 'application/json': { schema: PlanResponseSchema } },
  },
  202: {
    description:
      "The change, at `Location: /changes/{id}`; its steps run through the domain's queue, and one `change.succeeded` or `change.failed` webhook follows.",
    headers: z.object({ Location: z.string() }),
    content: { 'application/json': { schema: ChangeResourceSchema } },
  },
  ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503),
}

/** The route of a desired-state `PUT`: a domain, `dryRun`, a JSON body, a plan or a change. */
const desiredStateRoute = (route: {
  path: string
  operationId: string
  summary: string
  description: string
  body: z.ZodType
}) =>
  createRoute({
    method: 'put',
    path: route.path,
    operationId: route.operationId,
    tags: ['Desired state'],
    summary: route.summary,
    description: route.description,
    security: [{ bearer: [] }],
    request: {
      params: z.object({ name: DomainNameSchema }),
      query: DryRunQuerySchema,
      body: { required: true, content: { 'application/json': { schema: route.body } } },
    },
    responses: planOrChangeResponses,
  })

/** A desired DS record set from the body: records as given, DNSKEYs turned into DS records. */
function desiredRecords(
  domain: string,
  records: ReadonlyArray<
    | { keyTag: number; algorithm: number; digestType: number; digest: string }
    | { dnskey: string; digestType?: 1 | 2 | 4 | undefined }
  >,
): DsRecord[] {
  const seen = new Set<string>()
  return records.map((record, index) => {
    let ds: DsRecord
    if ('dnskey' in record) {
      try {
        ds = dsFromDnskey(domain, parseDnskey(record.dnskey), record.digestType ?? 2)
      } catch (error) {
        if (!(error instanceof DnskeyError)) throw error
        throw new RequestValidationError(error.message, [
          { path: `body.records.${index}.dnskey`, message: error.message },
        ])
      }
    } else {
      ds = { ...record, digest: record.digest.toLowerCase() }
    }
    const key = `${ds.keyTag}/${ds.algorithm}/${ds.digestType}/${ds.digest}`
    if (seen.has(key)) {
      throw new RequestValidationError('A DS record is listed twice.', [
        { path: `body.records.${index}`, message: 'is listed twice' },
      ])
    }
    seen.add(key)
    return ds
  })
}

/** The tenants holding a domain's desired state and its DNSSEC enrolment (undefined: none). */
async function holdersOf(
  deps: Pick<ApiDeps, 'domainStates' | 'dnssecStates'>,
  domain: string,
): Promise<(string | undefined)[]> {
  const [managed, enrolled] = await Promise.all([
    deps.domainStates.get(domain),
    deps.dnssecStates.get(domain),
  ])
  return [managed?.tenant, enrolled?.tenant]
}

/** What a desired-state `PUT` asks for, before it is the caller's change request. */
type DesiredOf<R> = R extends unknown ? Pick<R, Extract<keyof R, 'kind' | 'desired'>> : never

async function planOrApply(
  c: Context<AppEnv>,
  deps: ApiDeps,
  principal: Principal,
  target: { readonly domain: string; readonly callbackUrl: string | undefined },
  desired: DesiredOf<ChangeRequest>,
): Promise<Response> {
  const asked = {
    tenant: principal.tenant,
    keyId: principal.keyId,
    domain: target.domain,
    callbackUrl: target.callbackUrl ?? principal.callbackUrl,
    trigger: 'api',
    ...desired,
  } as ChangeRequest
  const query = parseOrThrow(DryRunQuerySchema, c.req.query(), 'query')
  const context = changeDepsFor(deps, c.get('logger'))
  const dryRun = query.dryRun === 'true'
  if (!dryRun && asked.callbackUrl) await deps.checkCallbackUrl(asked.callbackUrl)
  const holders = await holdersOf(deps, asked.domain)
  const grant = await requireManager(deps, principal, asked.domain, holders, { claim: !dryRun })
  const request = { ...asked, takeOver: grant.takeOver }
  try {
    if (dryRun) {
      const { plan } = await planChange(context, request)
      return toResponse(json(200, { plan }))
    }
    const change = await startChange(context, request).catch(async (error: unknown) => {
      await grant.release()
      throw error
    })
    const steps = await Promise.all(change.steps.map((id) => deps.tasks.get(id, deps.now())))
    return toResponse(
      json(202, toChangeResource(change, steps), { location: `/changes/${change.id}` }),
    )
  } catch (error) {
    if (error instanceof UnplannableError) {
      throw new RequestValidationError(error.message, [
        { path: 'body.records', message: error.message },
      ])
    }
    throw error
  }
}

export function registerDomainStateRoutes(app: App, deps: ApiDeps): void {
  defineRoute(
    app,
    desiredStateRoute({
      path: '/domains/{name}/ds',
      operationId: 'setDesiredDsRecords',
      summary: 'Make the DS records exactly these (plan with dryRun, or apply as a change)',
      description:
        'Plans the difference between the records given and those the registry holds (`QueryDSRecord`), matching by content, never by position. Applied, every add runs before any remove, so a key rollover never leaves the domain without a valid DS; if an add fails, no remove runs. An empty `records` removes every DS record (DNSSEC off) and needs `allowEmpty: true`.',
      body: DesiredDsBodySchema,
    }),
    async (c) => {
      const principal = await requireScope(c, deps, 'ds:write')
      const domain = await domainInPath(c, deps, principal)
      const body = await jsonBody(c, DesiredDsBodySchema)
      if (body.records.length === 0 && !body.allowEmpty) {
        throw new RequestValidationError(
          'An empty records list removes every DS record and turns DNSSEC validation off; send allowEmpty: true to mean it.',
          [{ path: 'body.allowEmpty', message: 'must be true with an empty records list' }],
        )
      }
      if (body.records.length > 0) requireDsTld(deps, domain)
      const records = desiredRecords(domain, body.records)
      return planOrApply(
        c,
        deps,
        principal,
        { domain, callbackUrl: body.callbackUrl },
        { kind: 'ds', desired: { records, repair: body.repair } },
      )
    },
  )

  defineRoute(
    app,
    desiredStateRoute({
      path: '/domains/{name}/name-servers',
      operationId: 'setDesiredNameServers',
      summary: 'Make the name servers exactly these (plan with dryRun, or apply as a change)',
      description:
        "Planned against the registry's current servers (`QueryDomainByDomainName`); applied as one `SaveBatchTaskForModifyingDomainDns` step through the domain's queue.",
      body: DesiredNameServersBodySchema,
    }),
    async (c) => {
      const principal = await requireScope(c, deps, 'dns:write')
      const domain = await domainInPath(c, deps, principal)
      const body = await jsonBody(c, DesiredNameServersBodySchema)
      return planOrApply(
        c,
        deps,
        principal,
        { domain, callbackUrl: body.callbackUrl },
        {
          kind: 'name-servers',
          desired: {
            aliyunDns: body.aliyunDns,
            nameServers: body.nameServers ?? [],
            repair: body.repair,
          },
        },
      )
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'get',
      path: '/changes/{id}',
      operationId: 'getChange',
      tags: ['Desired state'],
      summary: "One of the caller's changes, with where each step stands",
      security: [{ bearer: [] }],
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: {
          description: 'The change.',
          content: { 'application/json': { schema: ChangeResourceSchema } },
        },
        ...problemResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const principal = await requireScope(c, deps, 'tasks:read')
      const id = c.req.param('id') ?? ''
      const change = CHANGE_ID_PATTERN.test(id) ? await deps.changes.get(id, deps.now()) : undefined
      if (!change || change.tenant !== principal.tenant || !isAccepted(change)) {
        throw new NotFoundError('No such change.')
      }
      const steps = await Promise.all(change.steps.map((step) => deps.tasks.get(step, deps.now())))
      return toResponse(json(200, toChangeResource(change, steps)))
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'get',
      path: '/domains/{name}/drift',
      operationId: 'getDrift',
      tags: ['Desired state'],
      summary: 'Compare the last applied desired state with the registry now',
      security: [{ bearer: [] }],
      request: { params: z.object({ name: DomainNameSchema }) },
      responses: {
        200: {
          description: 'What is missing and what is unexpected, per managed part.',
          content: { 'application/json': { schema: DriftReportSchema } },
        },
        ...problemResponses(401, 403, 404, 502, 503),
      },
    }),
    async (c) => {
      const principal = await requireScope(c, deps, 'tasks:read')
      const domain = await domainInPath(c, deps, principal)
      const state = await deps.domainStates.get(domain)
      if (
        !state ||
        !(await maySee(deps, principal, domain, [state.tenant])) ||
        (!state.ds && !state.nameServers)
      ) {
        throw new NotFoundError('No desired state has been applied to this domain.')
      }
      return toResponse(json(200, await measureDrift(deps.upstream, state, deps.now())))
    },
  )
}
