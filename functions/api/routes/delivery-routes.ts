import { z } from '@hono/zod-openapi'
import { ConflictError, requireWritten } from '#shared/errors.ts'
import { TaskIdSchema } from '#shared/ids.ts'
import { isTerminal, TASK_ACTIONS, type Task } from '#shared/tasks/task.ts'
import { toTaskResource } from '#shared/tasks/task-resource.ts'
import { requireScopeOf } from '../request/auth.ts'
import type { ApiDeps } from '../request/context.ts'
import { json, toResponse } from '../request/http.ts'
import { ownTask } from '../request/scope-checks.ts'
import { DeliveryAttemptSchema, TaskResourceSchema } from '../schemas/task-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

export function registerDeliveryRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)

  route(
    {
      method: 'get',
      path: '/tasks/{id}/deliveries',
      operationId: 'listDeliveries',
      tags: ['Tasks'],
      summary:
        "The attempt log of a task's webhook: time, status code, duration, error, answer snippet",
      access: ['tasks:read'],
      ids: { id: TaskIdSchema },
      responses: {
        200: answer(
          'Attempts, oldest first, and the current callback state.',
          z.object({
            webhookId: z.string(),
            callback: TaskResourceSchema.shape.callback,
            attempts: z.array(DeliveryAttemptSchema),
          }),
        ),
      },
      problems: [404],
    },
    async (c, { principal }) => {
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

  route(
    {
      method: 'post',
      path: '/tasks/{id}/deliveries/redeliver',
      rate: 'redeliveries',
      operationId: 'redeliverWebhook',
      tags: ['Tasks'],
      summary: 'Send the finished task\'s webhook again (same webhook-id), e.g. after "exhausted"',
      access: 'key',
      ids: { id: TaskIdSchema },
      responses: {
        202: answer('Scheduled: the poller sends it within seconds.', TaskResourceSchema),
      },
      problems: [403, 404, 409],
    },
    async (c, { principal }) => {
      const task = await ownTask(c, deps, principal)
      requireScopeOf(principal, TASK_ACTIONS[task.action].scope)
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
      requireWritten(await deps.tasks.replace(next, task.version), 'The task changed; retry.')
      c.get('logger').info('webhook redelivery requested', { taskId: task.id })
      return toResponse(
        json(202, toTaskResource(next), { location: `/tasks/${task.id}/deliveries` }),
      )
    },
  )
}
