import { z } from '@hono/zod-openapi'
import {
  CHANGE_ID_PATTERN,
  CHANGE_STATUSES,
  type Change,
  isAccepted,
  toChangeResource,
} from '#shared/changes/change.ts'
import { NotFoundError } from '#shared/errors.ts'
import type { ApiDeps } from '../request/context.ts'
import { json, toResponse } from '../request/http.ts'
import {
  type PageRead,
  scopedPage,
  stillInScope,
  targetsOfChange,
} from '../request/scope-checks.ts'
import { DomainNameSchema, LIMITS } from '../schemas/common-schemas.ts'
import { ChangeResourceSchema } from '../schemas/desired-state-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

const ChangeListQuerySchema = z.strictObject({
  status: z.enum(CHANGE_STATUSES).optional(),
  domain: DomainNameSchema.optional(),
  kind: z.enum(['ds', 'name-servers']).optional(),
  limit: z.coerce.number().int().min(1).max(LIMITS.pageSizeMax).default(LIMITS.pageSizeDefault),
  cursor: z.string().max(2048).optional(),
})

const ChangePageSchema = z
  .object({ items: z.array(ChangeResourceSchema), nextCursor: z.string().optional() })
  .openapi('ChangePage')

export function registerChangeRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)

  /** The change with where each of its steps stands (one read per step, together). */
  const withSteps = async (change: Change) =>
    toChangeResource(
      change,
      await Promise.all(change.steps.map((step) => deps.tasks.get(step, deps.now()))),
    )

  /** The tenant's changes as `GET /changes` lists them. */
  const changes = { name: 'changes', targetsOf: targetsOfChange, toResource: withSteps }

  route(
    {
      method: 'get',
      path: '/changes',
      operationId: 'listChanges',
      tags: ['Desired state'],
      summary: "The caller's changes, newest first, filtered by status, domain and kind, paged",
      access: ['tasks:read'],
      query: ChangeListQuerySchema,
      responses: { 200: answer('A page of changes.', ChangePageSchema) },
      problems: [422],
    },
    async (_c, { principal, query }) => {
      const filter = { status: query.status, domain: query.domain, kind: query.kind }
      const read: PageRead<Change> = (position, now) =>
        deps.changeList.list(principal.tenant, filter, query.limit, position, now)
      return toResponse(json(200, await scopedPage(deps, principal, changes, query, read)))
    },
  )

  route(
    {
      method: 'get',
      path: '/changes/{id}',
      operationId: 'getChange',
      tags: ['Desired state'],
      summary: "One of the caller's changes, with where each step stands",
      access: ['tasks:read'],
      ids: { id: z.string() },
      responses: { 200: answer('The change.', ChangeResourceSchema) },
      problems: [404],
    },
    async (c, { principal }) => {
      const id = c.req.param('id') ?? ''
      const change = CHANGE_ID_PATTERN.test(id) ? await deps.changes.get(id, deps.now()) : undefined
      if (
        !change ||
        change.tenant !== principal.tenant ||
        !isAccepted(change) ||
        !(await stillInScope(deps, principal))(targetsOfChange(change))
      ) {
        throw new NotFoundError('No such change.')
      }
      return toResponse(json(200, await withSteps(change)))
    },
  )
}
