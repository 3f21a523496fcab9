import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { ConflictError, NotFoundError } from '#shared/errors.ts'
import { TaskIdSchema } from '#shared/ids.ts'
import { isTerminal, TASK_ACTIONS, type Task } from '#shared/tasks/task.ts'
import { toTaskResource } from '#shared/tasks/task-resource.ts'
import { authenticate, requireScope } from '../auth.ts'
import type { ApiDeps, App, AppEnv, Principal } from '../context.ts'
import { json, toResponse } from '../http.ts'
import { TimestampSchema } from '../schemas/common-schemas.ts'
import { TaskResourceSchema } from '../schemas/task-schemas.ts'
import { defineRoute, problemResponses } from './define.ts'

const DeliveryAttemptSchema = z
  .object({
    attempt: z.number(),
    at: TimestampSchema,
    url: z.string(),
    webhookId: z.string(),
    outcome: z.enum(['delivered', 'failed', 'gone', 'blocked', 'interrupted']),
    statusCode: z.number().optional(),
    durationMs: z.number().optional(),
    error: z.string().optional(),
    responseSnippet: z.string().optional().openapi({ description: 'At most 2 KB of the answer.' }),
    nextAttemptAt: TimestampSchema.optional(),
  })
  .openapi('DeliveryAttempt')

async function ownTask(c: Context<AppEnv>, deps: ApiDeps, principal: Principal): Promise<Task> {
  const id = c.req.param('id') ?? ''
  const task = TaskIdSchema.safeParse(id).success ? await deps.tasks.get(id, deps.now()) : undefined
  if (!task || task.tenant !== principal.tenant) throw new NotFoundError('No such task.')
  return task
}

export function registerDeliveryRoutes(app: App, deps: ApiDeps): void {
  defineRoute(
    app,
    createRoute({
      method: 'get',
      path: '/tasks/{id}/deliveries',
      operationId: 'listDeliveries',
      tags: ['Tasks'],
      summary:
        "The attempt log of a task's webhook: time, status code, duration, error, answer snippet",
      security: [{ bearer: [] }],
      request: { params: z.object({ id: TaskIdSchema }) },
      responses: {
        200: {
          description: 'Attempts, oldest first, and the current callback state.',
          content: {
            'application/json': {
              schema: z.object({
                webhookId: z.string(),
                callback: TaskResourceSchema.shape.callback,
                attempts: z.array(DeliveryAttemptSchema),
              }),
            },
          },
        },
        ...problemResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const principal = await requireScope(c, deps, 'tasks:read')
      const task = await ownTask(c, deps, principal)
      const attempts = await deps.deliveries.list(task.id)
      return toResponse(
        json(200, {
          webhookId: `msg_${task.id}`,
          callback: toTaskResource(task).callback,
          attempts,
        }),
      )
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'post',
      path: '/tasks/{id}/deliveries/redeliver',
      operationId: 'redeliverWebhook',
      tags: ['Tasks'],
      summary: 'Send the finished task\'s webhook again (same webhook-id), e.g. after "exhausted"',
      security: [{ bearer: [] }],
      request: { params: z.object({ id: TaskIdSchema }) },
      responses: {
        202: {
          description: 'Scheduled: the poller sends it within seconds.',
          content: { 'application/json': { schema: TaskResourceSchema } },
        },
        ...problemResponses(401, 403, 404, 409),
      },
    }),
    async (c) => {
      const principal = await authenticate(c, deps)
      const task = await ownTask(c, deps, principal)
      await requireScope(c, deps, TASK_ACTIONS[task.action].scope)
      if (!isTerminal(task.status))
        throw new ConflictError('The task has not finished; its webhook is sent when it does.')
      if (!task.callback.url) throw new ConflictError('The task has no callback URL.')
      if (task.callback.state === 'sending')
        throw new ConflictError('A delivery is in flight; retry shortly.')
      const now = deps.now()
      const next: Task = {
        ...task,
        callback: {
          ...task.callback,
          state: 'scheduled',
          nextAttemptAt: new Date(now).toISOString(),
        },
        dueAt: now,
        expiresAt: undefined,
      }
      if (!(await deps.tasks.replace(next, task.version)))
        throw new ConflictError('The task changed; retry.')
      c.get('logger').info('webhook redelivery requested', { taskId: task.id })
      return toResponse(
        json(202, toTaskResource(next), { location: `/tasks/${task.id}/deliveries` }),
      )
    },
  )
}
