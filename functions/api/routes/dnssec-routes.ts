import { scanAndStep } from '#shared/dnssec-automation/dnssec-service.ts'
import type { DnssecState } from '#shared/dnssec-automation/dnssec-state.ts'
import { ConflictError, NotFoundError } from '#shared/errors.ts'
import type { ApiDeps, Principal } from '../request/context.ts'
import { requireDsTld } from '../request/ds-tld.ts'
import { json, toResponse } from '../request/http.ts'
import { maySee, requireManager } from '../request/scope-checks.ts'
import { DnssecEnrolmentSchema, DnssecStateSchema } from '../schemas/dnssec-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

const view = (state: DnssecState) => {
  const { version: _version, tenant: _tenant, keyId: _keyId, ...rest } = state
  return rest
}

export function registerDnssecRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)
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
        requireSignal: body.requireSignal,
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
      rate: 'upstreamReads',
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
      const result = await scanAndStep(deps.dnssec(c.get('logger')), state)
      const after = await enrolment(state.domain, principal, 'manage')
      return toResponse(json(200, { result, state: view(after) }))
    },
  )
}
