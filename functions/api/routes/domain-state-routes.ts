import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { toChangeResource } from '#shared/changes/change.ts'
import type { ChangeRequest } from '#shared/changes/change-request.ts'
import { UnplannableError } from '#shared/changes/desired-plan.ts'
import { planChange } from '#shared/changes/plan-change.ts'
import { startChange } from '#shared/changes/start-change.ts'
import { measureDrift } from '#shared/desired/drift.ts'
import { DnskeyError, type DsRecord, dsForKeySigningKey } from '#shared/dns/dnskey.ts'
import { NotFoundError, RequestValidationError } from '#shared/errors.ts'
import { decide, preflightDesired } from '#shared/preflight/preflight.ts'
import type { Scope } from '#shared/tasks/task.ts'
import type { ApiDeps, AppEnv, Principal } from '../request/context.ts'
import { requireDsTld } from '../request/ds-tld.ts'
import { json, toResponse } from '../request/http.ts'
import { changeDepsFor } from '../request/request-change-deps.ts'
import { maySee, requireManager } from '../request/scope-checks.ts'
import {
  ChangeResourceSchema,
  DesiredDsBodySchema,
  DesiredNameServersBodySchema,
  DriftReportSchema,
  DryRunQuerySchema,
  PlanResponseSchema,
} from '../schemas/desired-state-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

/** The route of a desired-state `PUT`: a domain, `dryRun`, a JSON body, a plan or a change. */
const desiredStateRoute = <const B extends z.ZodType>(route: {
  path: string
  operationId: string
  summary: string
  description: string
  access: readonly Scope[]
  body: B
}) =>
  ({
    ...route,
    method: 'put',
    tags: ['Desired state'],
    domain: 'see',
    rateWhenDryRun: 'upstreamReads',
    body: { schema: route.body, required: true },
    query: DryRunQuerySchema,
    responses: {
      200: answer(
        'With `dryRun=true`: the plan against what the registry holds now.',
        PlanResponseSchema,
      ),
      202: answer(
        "The change, at `Location: /changes/{id}`; its steps run through the domain's queue, and one `change.succeeded` or `change.failed` webhook follows.",
        ChangeResourceSchema,
        z.object({ Location: z.string() }),
      ),
    },
    problems: [400, 404, 409, 413, 415, 422, 429, 502, 503],
  }) as const

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
        ds = dsForKeySigningKey(domain, record.dnskey, record.digestType ?? 2)
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

/** What every desired-state `PUT` says besides its desired state: where to, how, and whether to. */
interface DesiredStatePut {
  readonly domain: string
  readonly body: { readonly callbackUrl?: string | undefined; readonly force?: boolean | undefined }
  readonly query: { readonly dryRun?: string | undefined }
}

async function planOrApply(
  c: Context<AppEnv>,
  deps: ApiDeps,
  principal: Principal,
  put: DesiredStatePut,
  desired: DesiredOf<ChangeRequest>,
): Promise<Response> {
  const asked = {
    tenant: principal.tenant,
    keyId: principal.keyId,
    domain: put.domain,
    callbackUrl: put.body.callbackUrl ?? principal.callbackUrl,
    trigger: 'api',
    ...desired,
  } as ChangeRequest
  const context = changeDepsFor(deps, c.get('logger'))
  const dryRun = put.query.dryRun === 'true'
  const force = put.body.force === true
  if (!dryRun && asked.callbackUrl) await deps.checkCallbackUrl(asked.callbackUrl)
  const holders = await holdersOf(deps, asked.domain)
  const grant = await requireManager(deps, principal, asked.domain, holders, { claim: !dryRun })
  try {
    // Until the change is accepted, a refusal of any kind gives the claim back.
    const decided = await (async () => {
      // Before anything is written: the end state against what the zone's servers serve.
      const checked = await preflightDesired(deps.preflight, asked.domain, desired)
      deps.metrics.add('PreflightChecks', 1, {
        dimensions: { Verdict: checked.verdict, Forced: String(force) },
      })
      if (dryRun) {
        const { plan } = await planChange(context, { ...asked, takeOver: grant.takeOver })
        return { plan, safety: checked }
      }
      const safety = decide(checked, force, deps.preflight.settings)
      return startChange(context, { ...asked, takeOver: grant.takeOver, safety })
    })().catch(async (error: unknown) => {
      await grant.release()
      throw error
    })
    if (!('id' in decided)) return toResponse(json(200, decided))
    const steps = await Promise.all(decided.steps.map((id) => deps.tasks.get(id, deps.now())))
    return toResponse(
      json(202, toChangeResource(decided, steps), { location: `/changes/${decided.id}` }),
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

export function registerDomainStateRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)

  route(
    desiredStateRoute({
      path: '/domains/{name}/ds',
      operationId: 'setDesiredDsRecords',
      summary: 'Make the DS records exactly these (plan with dryRun, or apply as a change)',
      description:
        'Plans the difference between the records given and those the registry holds (`QueryDSRecord`), matching by content, never by position. Applied, every add runs before any remove, so a key rollover never leaves the domain without a valid DS; if an add fails, no remove runs. An empty `records` removes every DS record (DNSSEC off) and needs `allowEmpty: true`.',
      access: ['ds:write'],
      body: DesiredDsBodySchema,
    }),
    async (c, { principal, domain, body, query }) => {
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
        { domain, body, query },
        { kind: 'ds', desired: { records, repair: body.repair } },
      )
    },
  )

  route(
    desiredStateRoute({
      path: '/domains/{name}/name-servers',
      operationId: 'setDesiredNameServers',
      summary: 'Make the name servers exactly these (plan with dryRun, or apply as a change)',
      description:
        "Planned against the registry's current servers (`QueryDomainByDomainName`); applied as one `SaveBatchTaskForModifyingDomainDns` step through the domain's queue.",
      access: ['dns:write'],
      body: DesiredNameServersBodySchema,
    }),
    async (c, { principal, domain, body, query }) => {
      const { aliyunDns, nameServers = [], repair } = body
      return planOrApply(
        c,
        deps,
        principal,
        { domain, body, query },
        { kind: 'name-servers', desired: { aliyunDns, nameServers, repair } },
      )
    },
  )

  route(
    {
      method: 'get',
      path: '/domains/{name}/drift',
      rate: 'upstreamReads',
      operationId: 'getDrift',
      tags: ['Desired state'],
      summary: 'Compare the last applied desired state with the registry now',
      access: ['tasks:read'],
      domain: 'see',
      responses: {
        200: answer('What is missing and what is unexpected, per managed part.', DriftReportSchema),
      },
      problems: [404, 502, 503],
    },
    async (_c, { principal, domain }) => {
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
