import { suggestDs } from '#shared/dns/suggest-ds.ts'
import { TaskIdSchema } from '#shared/ids.ts'
import type { Task } from '#shared/tasks/task.ts'
import { queuePosition } from '#shared/tasks/task-queue.ts'
import { toTaskResource } from '#shared/tasks/task-resource.ts'
import type { ApiDeps } from '../request/context.ts'
import { json, toResponse } from '../request/http.ts'
import { ownTask, type PageRead, scopedPage, targetsOfTask } from '../request/scope-checks.ts'
import {
  DsRecordListSchema,
  DsSuggestionSchema,
  TaskListQuerySchema,
  TaskPageSchema,
  TaskResourceSchema,
} from '../schemas/task-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

/** The tenant's tasks as `GET /tasks` lists them. */
const TASKS = {
  name: 'tasks',
  targetsOf: targetsOfTask,
  toResource: (task: Task) => toTaskResource(task),
}

export function registerReadRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)

  route(
    {
      method: 'get',
      path: '/tasks/{id}',
      operationId: 'getTask',
      tags: ['Tasks'],
      summary: "One of the caller's tasks",
      access: ['tasks:read'],
      ids: { id: TaskIdSchema },
      responses: { 200: answer('The task.', TaskResourceSchema) },
      problems: [404],
    },
    async (c, { principal }) => {
      const task = await ownTask(c, deps, principal)
      const ahead = await queuePosition(deps.targetLocks, task)
      return toResponse(json(200, toTaskResource(task, ahead)))
    },
  )

  route(
    {
      method: 'get',
      path: '/tasks',
      operationId: 'listTasks',
      tags: ['Tasks'],
      summary: "The caller's tasks, newest first, filtered, with cursor paging",
      access: ['tasks:read'],
      query: TaskListQuerySchema,
      responses: { 200: answer('A page of tasks.', TaskPageSchema) },
      problems: [422],
    },
    async (_c, { principal, query }) => {
      const filter = { status: query.status, domain: query.domain, action: query.action as never }
      const read: PageRead<Task> = (position, now) =>
        deps.tasks.listByTenant(principal.tenant, filter, query.limit, position, now)
      return toResponse(json(200, await scopedPage(deps, principal, TASKS, query, read)))
    },
  )

  route(
    {
      method: 'get',
      path: '/domains/{name}/ds',
      rate: 'upstreamReads',
      operationId: 'listDsRecords',
      tags: ['DS records'],
      summary: 'The DS records Alibaba Cloud holds for a domain now (QueryDSRecord, read-through)',
      description:
        "One registry read of a domain answers every read of it for `REGISTRY_READ_CACHE_SECONDS` (5 s) on an API instance, so many readers spend the Alibaba quota once — but never an older view than the gateway's own last change of the domain: while a task of the gateway holds the domain, and after it lets go, the registry is read again.",
      access: ['ds:write', 'tasks:read'],
      domain: 'see',
      responses: { 200: answer('Current records.', DsRecordListSchema) },
      problems: [422, 429, 502, 503],
    },
    async (_c, { domain }) => {
      const records = await deps.registryDsRecords(domain)
      return toResponse(json(200, { domain, records }))
    },
  )

  route(
    {
      method: 'get',
      path: '/domains/{name}/ds/suggested',
      rate: 'reads',
      operationId: 'suggestDsRecords',
      tags: ['DS records'],
      summary: 'The DS records the zone asks for, from its CDS, CDNSKEY or key-signing keys',
      description:
        'Asks every server of the zone (as the pre-flight check finds them) for its DNSKEY, CDS and CDNSKEY RRsets: the records its CDS names, else DS records (SHA-256) for its CDNSKEY, else for the key-signing keys it serves — so nobody copies a digest by hand. Read-only: nothing is written or sent to the registry. `source: none` and `reason` when the servers cannot be asked, disagree, or serve the zone unsigned.',
      access: ['ds:write', 'tasks:read'],
      domain: 'see',
      responses: { 200: answer('What the zone asks for.', DsSuggestionSchema) },
      problems: [422, 429],
    },
    async (_c, { domain }) => {
      const { preflight } = deps
      const suggestion = await suggestDs(
        {
          serversFor: preflight.serversOfZone,
          query: (server, name, type) =>
            preflight.query(server, name, type, {
              tcp: true,
              timeoutMs: preflight.settings.timeoutMs,
            }),
          now: deps.now,
        },
        domain,
      )
      return toResponse(json(200, suggestion))
    },
  )
}
