import { activeWebhookSecrets } from '#shared/auth/api-keys.ts'
import { toEpochSeconds } from '#shared/epoch.ts'
import { eventBody, eventWebhookId, type WebhookEvent } from '#shared/events/webhook-event.ts'
import { randomId } from '#shared/ids.ts'
import { nextCallbackState } from '#shared/webhooks/callback-states.ts'
import type { ApiDeps } from '../request/context.ts'
import { json, toResponse } from '../request/http.ts'
import { TestWebhookBodySchema, TestWebhookResultSchema } from '../schemas/webhook-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'
import { sampleEventData } from './sample-events.ts'

/**
 * If the process stops between storing a test event and recording its one attempt, the poller
 * sends it after this long (the attempt itself is bounded by the webhook timeout, far shorter).
 */
const UNRECORDED_ATTEMPT_FALLBACK_MS = 60_000

export function registerWebhookTestRoutes(table: RouteTable, deps: ApiDeps): void {
  routesOf(table, deps)(
    {
      method: 'post',
      path: '/webhooks/test',
      operationId: 'sendTestWebhook',
      tags: ['Webhooks'],
      summary: 'Send a signed test event of any type to a receiver and report the attempt',
      description:
        "Makes an event of `type` (default `ping`) whose `data` is a sample built like the real event's, marks it `test`, stores it (`GET /events/{id}`, its delivery log, redeliver) and sends it once — signed with the API key's webhook secrets, through the same address policy and timeout as every webhook — to `url` or the key's callback URL. With neither it is only stored, for `domain-gateway listen`. Any valid key may use it, whatever its scopes.",
      access: 'key',
      body: { schema: TestWebhookBodySchema, required: false },
      responses: {
        200: answer('The attempt (whatever the receiver answered).', TestWebhookResultSchema),
      },
      problems: [400, 413, 415, 422],
    },
    async (c, { principal, body }) => {
      const url = body.url ?? principal.callbackUrl
      // Refused before anything is written.
      if (url) await deps.checkCallbackUrl(url)
      const at = deps.now()
      const iso = new Date(at).toISOString()
      const retention = toEpochSeconds(at + deps.settings.taskRetentionMs)
      const event: WebhookEvent = {
        id: randomId('evt', 24, deps.randomBytes),
        version: 0,
        tenant: principal.tenant,
        keyId: principal.keyId,
        eventType: body.type,
        occurredAt: iso,
        data: sampleEventData(body.type, { ...principal, url, at }),
        callback: url
          ? { url, state: 'sending', attempts: 1, lastAttemptAt: iso }
          : { url: undefined, state: 'none', attempts: 0 },
        createdAt: iso,
        test: true,
        dueAt: url ? at + UNRECORDED_ATTEMPT_FALLBACK_MS : undefined,
        expiresAt: url ? undefined : retention,
      }
      await deps.events.create(event)
      const webhookId = eventWebhookId(event)
      const log = c.get('logger')
      if (!url) {
        log.info('test event stored', { webhookId, type: body.type })
        return toResponse(json(200, { webhookId, type: body.type, at: iso, outcome: 'stored' }))
      }
      // Read now, not from the cache: a secret rotated on another instance signs at once.
      const key = await deps.apiKeys.get(principal.keyId)
      const result = await deps.sendWebhook({
        url,
        id: webhookId,
        body: eventBody(event),
        secrets: key ? activeWebhookSecrets(key, at) : [],
      })
      const { retryAfterMs: _retryAfter, ...attempt } = result
      await deps.deliveries.record(
        event.id,
        { attempt: 1, at: iso, url, webhookId, ...attempt },
        retention,
      )
      // Sent once: a failure is final at once (redeliver sends it again).
      const next = nextCallbackState(event.callback, result, deps.now(), {
        scheduledDelayMs: undefined,
        retryAfterMinMs: 0,
        retryAfterMaxMs: 0,
      })
      // The stored version is 1 after the create. Lost only to the poller's fallback, which then
      // owns the event: harmless.
      await deps.events.replace(
        { ...event, callback: next.callback, dueAt: undefined, expiresAt: retention },
        1,
      )
      log.info('test webhook sent', {
        webhookId,
        type: body.type,
        outcome: result.outcome,
        statusCode: result.statusCode,
        durationMs: result.durationMs,
      })
      return toResponse(json(200, { webhookId, type: body.type, url, at: iso, ...attempt }))
    },
  )
}
