import { createHash } from 'node:crypto'
import { codeClass } from '../aliyun/upstream-error.ts'
import type { SubmitDeps, SubmitOutcome } from '../tasks/submit-deps.ts'
import { submitTask } from '../tasks/submit-task.ts'
import type { TaskCommand } from '../tasks/task.ts'
import { SYSTEM_KEY_ID, SYSTEM_TENANT } from '../webhooks/webhook-secrets.ts'
import type { SyncRequest } from './sync-schedules.ts'

export interface SyncItemResult {
  readonly target: string
  readonly action: 'ds.sync' | 'dnshost.sync'
  readonly status: number
  readonly taskId?: string | undefined
  readonly error?: string | undefined
  readonly replayed: boolean
}

function render(outcome: SubmitOutcome) {
  if (outcome.kind === 'accepted') {
    return { status: 202, headers: {}, body: { taskId: outcome.task.id } }
  }
  const { code, retryability } = outcome.error
  const status =
    code === 'TaskIsBeingProcessed'
      ? 409
      : codeClass(code) === 'refused-retry'
        ? 429
        : retryability === 'retryable'
          ? 503
          : 422
  return { status, headers: {}, body: { taskId: outcome.task.id, error: code } }
}

/**
 * Submits the DS and DNS-host syncs of one scheduled event through the same path as the API,
 * under the system tenant. Each item's idempotency key is `<eventId>:<action>:<target>`, so a
 * retried invocation submits nothing twice; one item's failure does not stop the others.
 */
export interface SyncDeps extends SubmitDeps {
  /** The check every callback URL passes where it enters (scheme, credentials, addresses). */
  readonly checkCallbackUrl: (url: string) => Promise<void>
}

export async function runScheduledSync(
  deps: SyncDeps,
  request: SyncRequest,
  configuredCallbackUrl: string | undefined,
): Promise<SyncItemResult[]> {
  let callbackUrl = configuredCallbackUrl
  if (callbackUrl) {
    try {
      await deps.checkCallbackUrl(callbackUrl)
    } catch (error) {
      // The syncs still run; only their callbacks are withheld until the setting is fixed.
      deps.logger.error('SYNC_CALLBACK_URL is refused; syncs run without callbacks', { error })
      callbackUrl = undefined
    }
  }
  const commands: TaskCommand[] = [
    ...request.domains.map((domain) => ({ action: 'ds.sync' as const, domain })),
    ...request.instanceIds.map((instanceId) => ({ action: 'dnshost.sync' as const, instanceId })),
  ]
  const results: SyncItemResult[] = []
  for (const command of commands) {
    const target =
      command.action === 'ds.sync' ? command.domain : (command as { instanceId: string }).instanceId
    const action = command.action as SyncItemResult['action']
    try {
      const answer = await submitTask(
        deps,
        {
          tenant: SYSTEM_TENANT,
          keyId: SYSTEM_KEY_ID,
          command,
          callbackUrl,
          idempotency: {
            key: `${request.eventId}:${action}:${target}`,
            requestHash: createHash('sha256').update(JSON.stringify(command)).digest('hex'),
          },
        },
        render,
      )
      const body = answer.body as { taskId?: string; error?: string }
      results.push({
        target,
        action,
        status: answer.status,
        taskId: body.taskId,
        error: body.error,
        replayed: answer.replayed,
      })
    } catch (error) {
      deps.logger.error('scheduled sync item failed', { target, action, error })
      results.push({ target, action, status: 503, error: (error as Error).name, replayed: false })
    }
  }
  return results
}
