import { createRoute, z } from '@hono/zod-openapi'
import { NotFoundError } from '#shared/errors.ts'
import { TaskIdSchema } from '#shared/ids.ts'
import { queuePosition } from '#shared/tasks/task-queue.ts'
import { toTaskResource } from '#shared/tasks/task-resource.ts'
import { requireScope } from '../auth.ts'
import type { ApiDeps, App } from '../context.ts'
import { json, toResponse } from '../http.ts'
import { DomainNameSchema } from '../schemas/common-schemas.ts'
import {
  DsRecordListSchema,
  TaskListQuerySchema,
  TaskPageSchema,
  TaskResourceSchema,
} from '../schemas/task-schemas.ts'
import { domainInPath } from '../tenant-scope.ts'
import { parseOrThrow } from '../validate.ts'
import { defineRoute, problemResponses } from './define.ts'

export function registerReadRoutes(app: App, deps: ApiDeps): void {
  defineRoute(
    app,
    createRoute({
      method: 'get',
      path: '/tasks/{id}',
      operationId: 'getTask',
      tags: ['Tasks'],
      summary: "One of the caller's tasks",
      security: [{ bearer: [] }],
      request: { params: z.object({ id: TaskIdSchema }) },
      responses: {
        200: {
          description: 'The task.',
          content: { 'application/json': { schema: TaskResourceSchema } },
        },
        ...problemResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const principal = await requireScope(c, deps, 'tasks:read')
      const id = c.req.param('id') ?? ''
      const task = TaskIdSchema.safeParse(id).success
        ? await deps.tasks.get(id, deps.now())
        : undefined
      // Another tenant's task is answered exactly like a missing one.
      if (!task || task.tenant !== principal.tenant) throw new NotFoundError('No such task.')
      const ahead = await queuePosition(deps.targetLocks, task)
      return toResponse(json(200, toTaskResource(task, ahead)))
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'get',
      path: '/tasks',
      operationId: 'listTasks',
      tags: ['Tasks'],
      summary: "The caller's tasks, newest first, filtered, with cursor paging",
      security: [{ bearer: [] }],
      request: { query: TaskListQuerySchema },
      responses: {
        200: {
          description: 'A page of tasks.',
          content: { 'application/json': { schema: TaskPageSchema } },
        },
        ...problemResponses(401, 403, 422),
      },
    }),
    async (c) => {
      const principal = await requireScope(c, deps, 'tasks:read')
      const query = parseOrThrow(TaskListQuerySchema, c.req.query(), 'query')
      const scope = `tasks:${principal.tenant}`
      const page = await deps.tasks.listByTenant(
        principal.tenant,
        { status: query.status, domain: query.domain, action: query.action as never },
        query.limit,
        query.cursor === undefined ? undefined : deps.cursors.open(scope, query.cursor),
        deps.now(),
      )
      const nextCursor = page.next ? deps.cursors.seal(scope, page.next) : undefined
      return toResponse(
        json(200, { items: page.items.map((task) => toTaskResource(task)), nextCursor }),
      )
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'get',
      path: '/domains/{name}/ds',
      operationId: 'listDsRecords',
      tags: ['DS records'],
      summary: 'The DS records Alibaba Cloud holds for a domain now (QueryDSRecord, read-through)',
      description:
        'One registry read of a domain answers every read of it for `REGISTRY_READ_CACHE_SECONDS` (5 s) on an API instance, so many readers spend the Alibaba quota once.',
      security: [{ bearer: [] }],
      request: { params: z.object({ name: DomainNameSchema }) },
      responses: {
        200: {
          description: 'Current records.',
          content: { 'application/json': { schema: DsRecordListSchema } },
        },
        ...problemResponses(401, 403, 422, 429, 502, 503),
      },
    }),
    async (c) => {
      const principal = await requireScope(c, deps, 'ds:write', 'tasks:read')
      const domain = await domainInPath(c, deps, principal)
      const records = await deps.registryDsRecords(domain)
      return toResponse(json(200, { domain, records }))
    },
  )
}
