/** The admin API for tenants: their scopes and limits, and which tenant manages each domain. */
import type { z } from '@hono/zod-openapi'
import { NotFoundError, requireWritten } from '#shared/errors.ts'
import type { DomainAssignment } from '#shared/tenants/domain-assignment.ts'
import type { TenantScope } from '#shared/tenants/tenant-scope.ts'
import type { ApiDeps } from '../request/context.ts'
import { json, toResponse } from '../request/http.ts'
import {
  DomainAssignmentBodySchema,
  DomainAssignmentSchema,
  TenantNameSchema,
  TenantScopeBodySchema,
  TenantScopeSchema,
} from '../schemas/admin-schemas.ts'
import { DomainNameSchema } from '../schemas/common-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

/** A tenant's scope as the admin sets it: each domain and instance once. */
const scopeFrom = (body: z.output<typeof TenantScopeBodySchema>) => ({
  domains: [...new Set(body.domains)],
  instances: [...new Set(body.instances)],
  limits: body.limits,
})

export function registerAdminTenantRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)
  const admin = { tags: ['Admin'], access: 'admin' } as const
  const tenantParam = { tenant: TenantNameSchema }
  const tenantView = (scope: TenantScope) => ({
    tenant: scope.tenant,
    domains: scope.domains,
    instances: scope.instances,
    limits: scope.limits,
    updatedAt: scope.updatedAt,
  })

  route(
    {
      ...admin,
      method: 'put',
      path: '/admin/tenants/{tenant}',
      operationId: 'setTenantScope',
      summary: "Set the domains and DNS-host instances a tenant's keys may act on",
      description:
        "Replaces the tenant's scope. A domain or instance outside it answers 404 on every route, as if it did not exist. Takes effect at once on this API instance and within `API_KEY_CACHE_SECONDS` on the others.",
      params: tenantParam,
      body: { schema: TenantScopeBodySchema, required: true },
      responses: { 200: answer('The scope as stored.', TenantScopeSchema) },
      problems: [400, 409, 413, 415, 422],
    },
    async (c, { params: { tenant }, body }) => {
      const current = await deps.tenantScopes.get(tenant)
      const next = { tenant, ...scopeFrom(body), updatedAt: new Date(deps.now()).toISOString() }
      const changed = 'The tenant changed meanwhile; retry.'
      requireWritten(await deps.tenantScopes.save(next, current?.version), changed)
      deps.cachedScopes.forget(tenant)
      c.get('logger').info('tenant scope set', {
        tenant,
        domains: next.domains.length,
        instances: next.instances.length,
      })
      return toResponse(json(200, tenantView({ ...next, version: (current?.version ?? 0) + 1 })))
    },
  )

  route(
    {
      ...admin,
      method: 'get',
      path: '/admin/tenants/{tenant}',
      operationId: 'getTenantScope',
      summary: "A tenant's scope",
      params: tenantParam,
      responses: {
        200: answer(
          'The scope as stored. 404: none was set — the tenant acts on everything under `TENANT_SCOPES=open` (the default), on nothing under `strict`.',
          TenantScopeSchema,
        ),
      },
      problems: [404, 422],
    },
    async (_c, { params: { tenant } }) => {
      const scope = await deps.tenantScopes.get(tenant)
      if (!scope) throw new NotFoundError('No scope was set for this tenant.')
      return toResponse(json(200, tenantView(scope)))
    },
  )

  const domainParam = { name: DomainNameSchema }
  const assignmentView = (assignment: DomainAssignment) => ({
    domain: assignment.domain,
    manager: assignment.manager,
    sharedWith: assignment.sharedWith,
    assignedBy: assignment.assignedBy,
    updatedAt: assignment.updatedAt,
  })
  const assignmentOf = async (domain: string) => {
    const assignment = await deps.domainAssignments.get(domain)
    if (!assignment) throw new NotFoundError('No tenant manages this domain.')
    return assignment
  }

  route(
    {
      ...admin,
      method: 'put',
      path: '/admin/domains/{name}',
      operationId: 'assignDomain',
      summary: 'Assign the tenant that manages a domain, and share it with others',
      description:
        "The manager's keys alone set the domain's desired state and DNSSEC automation; the tenants it is shared with may also submit changes and read them; every other tenant's write is refused with 409. (Each tenant's scope still decides whether it sees the domain at all.) Takes effect at once for desired-state writes, and within `API_KEY_CACHE_SECONDS` for submissions on other API instances.",
      params: domainParam,
      body: { schema: DomainAssignmentBodySchema, required: true },
      responses: { 200: answer('The assignment as stored.', DomainAssignmentSchema) },
      problems: [400, 409, 413, 415, 422],
    },
    async (c, { params: { name: domain }, body }) => {
      const current = await deps.domainAssignments.get(domain)
      const { manager, sharedWith } = body
      const next = {
        domain,
        manager,
        sharedWith: [...new Set(sharedWith)].filter((tenant) => tenant !== manager),
        assignedBy: 'admin' as const,
        updatedAt: new Date(deps.now()).toISOString(),
      }
      const changed = 'The assignment changed meanwhile; retry.'
      requireWritten(await deps.domainAssignments.save(next, current?.version), changed)
      deps.cachedAssignments.forget(domain)
      c.get('logger').info('domain assigned', {
        domain,
        manager: next.manager,
        sharedWith: next.sharedWith.length,
        previous: current?.manager,
      })
      return toResponse(json(200, assignmentView({ ...next, version: 0 })))
    },
  )

  route(
    {
      ...admin,
      method: 'get',
      path: '/admin/domains/{name}',
      operationId: 'getDomainAssignment',
      summary: 'Who manages a domain, and who it is shared with',
      params: domainParam,
      responses: { 200: answer('The assignment.', DomainAssignmentSchema) },
      problems: [404, 422],
    },
    async (_c, { params: { name } }) =>
      toResponse(json(200, assignmentView(await assignmentOf(name)))),
  )

  route(
    {
      ...admin,
      method: 'delete',
      path: '/admin/domains/{name}',
      operationId: 'unassignDomain',
      summary: 'Remove the assignment: the domain is managed by nobody until assigned or claimed',
      description:
        "Under `TENANT_SCOPES=open` the tenant holding the domain's desired state or enrolment keeps managing it and claims it again at its next write; under `strict` nobody manages it until the admin assigns it.",
      params: domainParam,
      responses: { 204: answer('Removed.') },
      problems: [404, 409, 422],
    },
    async (c, { params: { name: domain } }) => {
      const assignment = await assignmentOf(domain)
      requireWritten(
        await deps.domainAssignments.remove(domain, assignment.version),
        'The assignment changed meanwhile; retry.',
      )
      deps.cachedAssignments.forget(domain)
      c.get('logger').info('domain unassigned', { domain, manager: assignment.manager })
      return c.body(null, 204)
    },
  )
}
