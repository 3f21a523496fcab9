import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { ConflictError, NotFoundError, requireWritten } from '#shared/errors.ts'
import type { LoggedEvent } from '#shared/events/event-log.ts'
import {
  callbackOfLogged,
  eventSourceOf,
  timestampOfLogged,
  toEventResource,
  webhookIdOfLogged,
} from '#shared/events/event-resource.ts'
import { isTerminal, TASK_ACTIONS } from '#shared/tasks/task.ts'
import { dueForRedelivery, RECOVERABLE_STATES } from '#shared/webhooks/callback-states.ts'
import { requireScopeOf } from '../request/auth.ts'
import type { ApiDeps, AppEnv, Principal } from '../request/context.ts'
import { json, toResponse } from '../request/http.ts'
import {
  type PageRead,
  type ScopedTargets,
  scopedPage,
  stillInScope,
  targetsOfTask,
} from '../request/scope-checks.ts'
import {
  EventIdSchema,
  EventListQuerySchema,
  EventPageSchema,
  EventResourceSchema,
  RecoverBodySchema,
  RecoverResultSchema,
} from '../schemas/event-schemas.ts'
import { DeliveryAttemptSchema } from '../schemas/task-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

/** A recovery looks at this many events per call at most; the answer says where to go on. */
const RECOVER_MAX_EXAMINED = 1000

export function registerEventRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)

  route(
    {
      method: 'get',
      path: '/events',
      operationId: 'listEvents',
      tags: ['Events'],
      summary: "The caller's events (task, change, domain, DNSSEC, test), filtered, paged",
      description:
        'Every event the gateway sends to the tenant, kept as long as its task or change (TASK_RETENTION_DAYS), whether or not it had a callback URL: list it, read its delivery log, send it again. `order=asc` with `since` follows new events (as `domain-gateway listen` does).',
      access: ['tasks:read'],
      query: EventListQuerySchema,
      responses: { 200: answer('A page of events.', EventPageSchema) },
      problems: [422],
    },
    async (_c, { principal, query }) => {
      const filter = { type: query.type, since: query.since, order: query.order }
      const read: PageRead<LoggedEvent> = (position, now) =>
        deps.eventLog.list(principal.tenant, filter, query.limit, position, now)
      const page = { cursor: query.cursor, variant: query.order }
      return toResponse(json(200, await scopedPage(deps, principal, EVENTS, page, read)))
    },
  )

  route(
    {
      method: 'get',
      path: '/events/{id}',
      operationId: 'getEvent',
      tags: ['Events'],
      summary: 'One event by its webhook id, with its body and where its delivery stands',
      access: ['tasks:read'],
      ids: { id: EventIdSchema },
      responses: { 200: answer('The event.', EventResourceSchema) },
      problems: [404],
    },
    async (c, { principal }) => {
      return toResponse(json(200, toEventResource(await ownEvent(c, deps, principal))))
    },
  )

  route(
    {
      method: 'get',
      path: '/events/{id}/deliveries',
      operationId: 'listEventDeliveries',
      tags: ['Events'],
      summary: "An event's delivery log: time, status code, duration, error, answer snippet",
      access: ['tasks:read'],
      ids: { id: EventIdSchema },
      responses: {
        200: answer(
          'Attempts, oldest first, and where the delivery stands.',
          z.object({
            webhookId: z.string(),
            delivery: EventResourceSchema.shape.delivery,
            attempts: z.array(DeliveryAttemptSchema),
          }),
        ),
      },
      problems: [404],
    },
    async (c, { principal }) => {
      const logged = await ownEvent(c, deps, principal)
      const attempts = await deps.deliveries.list(sourceId(logged))
      return toResponse(
        json(200, {
          webhookId: webhookIdOfLogged(logged),
          delivery: toEventResource(logged).delivery,
          attempts,
        }),
      )
    },
  )

  route(
    {
      method: 'post',
      path: '/events/{id}/redeliver',
      rate: 'redeliveries',
      operationId: 'redeliverEvent',
      tags: ['Events'],
      summary: 'Send an event again (same webhook id and body), e.g. after "exhausted"',
      access: ['tasks:read'],
      ids: { id: EventIdSchema },
      responses: {
        202: answer('Scheduled: the poller sends it within seconds.', EventResourceSchema),
      },
      problems: [404, 409],
    },
    async (c, { principal }) => {
      const logged = await ownEvent(c, deps, principal)
      // A task's event is sent again only by a key that may submit such tasks, as on its own route.
      if (logged.kind === 'task') requireScopeOf(principal, TASK_ACTIONS[logged.task.action].scope)
      const next = await redeliver(deps, logged, deps.now())
      c.get('logger').info('event redelivery requested', { webhookId: webhookIdOfLogged(logged) })
      return toResponse(
        json(202, toEventResource(next), {
          location: `/events/${webhookIdOfLogged(logged)}/deliveries`,
        }),
      )
    },
  )

  route(
    {
      method: 'post',
      path: '/events/recover',
      rate: 'redeliveries',
      operationId: 'recoverEvents',
      tags: ['Events'],
      summary: 'Send again every event since a time whose delivery failed (exhausted or disabled)',
      description: `After a receiver's outage: every event since \`since\` whose retries ran out (\`exhausted\`) or whose endpoint was disabled is scheduled again, oldest first, with its own webhook id (a task's event only when the key has the scope that submits such tasks, as for one redelivery). At most ${RECOVER_MAX_EXAMINED} events are looked at per call; \`complete: false\` says to call again with \`since\` = \`resumeSince\`.`,
      access: ['tasks:read'],
      body: { schema: RecoverBodySchema, required: true },
      responses: { 202: answer('What was scheduled.', RecoverResultSchema) },
      problems: [400, 413, 415, 422],
    },
    async (c, { principal, body }) => {
      const result = await recover(deps, principal, body.since)
      c.get('logger').info('event recovery requested', {
        since: body.since,
        scheduled: result.scheduled.length,
        examined: result.examined,
      })
      return toResponse(json(202, result))
    },
  )
}

/** The caller's event named by `{id}`; another tenant's, or an id of another shape, is a 404. */
async function ownEvent(
  c: Context<AppEnv>,
  deps: Pick<ApiDeps, 'tasks' | 'events' | 'now' | 'cachedScopes' | 'api'>,
  principal: Principal,
): Promise<LoggedEvent> {
  const source = eventSourceOf(c.req.param('id') ?? '')
  const now = deps.now()
  let logged: LoggedEvent | undefined
  if (source?.kind === 'task') {
    const task = await deps.tasks.get(source.id, now)
    // A task is an event once it is final.
    if (task && isTerminal(task.status)) logged = { kind: 'task', task }
  } else if (source) {
    const event = await deps.events.get(source.id, now)
    if (event) logged = { kind: 'event', event }
  }
  const tenant = logged?.kind === 'task' ? logged.task.tenant : logged?.event.tenant
  if (!logged || tenant !== principal.tenant) throw new NotFoundError('No such event.')
  if (!(await stillInScope(deps, principal))(targetsOfEvent(logged))) {
    throw new NotFoundError('No such event.')
  }
  return logged
}

/** What an event is about: its task's targets, or the domain its data names (none for `ping`). */
function targetsOfEvent(logged: LoggedEvent): ScopedTargets {
  if (logged.kind === 'task') return targetsOfTask(logged.task)
  const { domain } = logged.event.data
  return { domains: typeof domain === 'string' ? [domain] : [], instances: [] }
}

/** The tenant's events as `GET /events` lists them (a cursor is sealed to its order too). */
const EVENTS = { name: 'events', targetsOf: targetsOfEvent, toResource: toEventResource }

const sourceId = (logged: LoggedEvent) =>
  logged.kind === 'task' ? logged.task.id : logged.event.id

/** Schedules the event's webhook again with a conditional write; what it became. */
async function redeliver(
  deps: Pick<ApiDeps, 'tasks' | 'events'>,
  logged: LoggedEvent,
  now: number,
): Promise<LoggedEvent> {
  const callback = callbackOfLogged(logged)
  if (!callback.url) throw new ConflictError('The event has no callback URL.')
  if (callback.state === 'sending')
    throw new ConflictError('A delivery is in flight; retry shortly.')
  const due = dueForRedelivery(callback, now)
  if (logged.kind === 'task') {
    const next = { ...logged.task, ...due }
    requireWritten(await deps.tasks.replace(next, logged.task.version), 'The event changed; retry.')
    return { kind: 'task', task: { ...next, version: logged.task.version + 1 } }
  }
  const next = { ...logged.event, ...due }
  requireWritten(await deps.events.replace(next, logged.event.version), 'The event changed; retry.')
  return { kind: 'event', event: { ...next, version: logged.event.version + 1 } }
}

/** Schedules every recoverable event since `since` again, oldest first, within one call's bound. */
async function recover(
  deps: Pick<ApiDeps, 'tasks' | 'events' | 'eventLog' | 'now'>,
  principal: Principal,
  since: string,
) {
  const tenant = principal.tenant
  const scheduled: string[] = []
  let examined = 0
  let start: Record<string, unknown> | undefined
  let last: string | undefined
  do {
    const limit = Math.min(100, RECOVER_MAX_EXAMINED - examined)
    const page = await deps.eventLog.list(tenant, { since, order: 'asc' }, limit, start, deps.now())
    for (const logged of page.items) {
      examined += 1
      last = timestampOfLogged(logged)
      if (!RECOVERABLE_STATES.has(callbackOfLogged(logged).state)) continue
      // As for one redelivery: a task's event only with its action's scope.
      if (logged.kind === 'task' && !principal.scopes.has(TASK_ACTIONS[logged.task.action].scope)) {
        continue
      }
      // Lost to a concurrent write (a redelivery, the poller): it is being sent already.
      const sent = await redeliver(deps, logged, deps.now()).then(
        () => true,
        (error: unknown) => {
          if (error instanceof ConflictError) return false
          throw error
        },
      )
      if (sent) scheduled.push(webhookIdOfLogged(logged))
    }
    start = page.next
  } while (start && examined < RECOVER_MAX_EXAMINED)
  const complete = start === undefined
  return { scheduled, examined, complete, resumeSince: complete ? undefined : last }
}
