import { activeWebhookSecrets } from '#shared/auth/api-keys.ts'
import { RequestValidationError } from '#shared/errors.ts'
import { randomId } from '#shared/ids.ts'
import { pingEventBody } from '#shared/webhooks/ping-event.ts'
import type { ApiDeps, App } from '../context.ts'
import { json, toResponse } from '../http.ts'
import { TestWebhookBodySchema, TestWebhookResultSchema } from '../schemas/webhook-schemas.ts'
import { routesOf } from './route.ts'
import { answer } from './route-document.ts'

export function registerWebhookTestRoutes(app: App, deps: ApiDeps): void {
  routesOf(app, deps)(
    {
      method: 'post',
      path: '/webhooks/test',
      operationId: 'sendTestWebhook',
      tags: ['Webhooks'],
      summary: 'Send a signed test event (ping) to a receiver and report the attempt',
      description:
        "Signs a `ping` event with the API key's webhook secrets and POSTs it once, through the same address policy, signing and timeout as task webhooks, to `url` or the key's callback URL. Nothing is stored or retried; the answer is the attempt. Any valid key may use it, whatever its scopes.",
      access: 'key',
      body: { schema: TestWebhookBodySchema, required: false },
      responses: {
        200: answer('The attempt (whatever the receiver answered).', TestWebhookResultSchema),
      },
      problems: [400, 413, 415, 422],
    },
    async (c, { principal, body }) => {
      const url = body.url ?? principal.callbackUrl
      if (!url) {
        throw new RequestValidationError('The API key has no callback URL; give `url`.', [
          { path: 'body.url', message: 'is required: the API key has no callback URL' },
        ])
      }
      await deps.checkCallbackUrl(url)
      // The key as authentication just found it (the same per-instance cache, no second read).
      // Read now, not from the cache: a secret rotated on another instance signs at once.
      const key = await deps.apiKeys.get(principal.keyId)
      const at = deps.now()
      const webhookId = randomId('msg_ping', 24, deps.randomBytes)
      const result = await deps.sendWebhook({
        url,
        id: webhookId,
        body: pingEventBody({ tenant: principal.tenant, keyId: principal.keyId, url, at }),
        secrets: key ? activeWebhookSecrets(key, at) : [],
      })
      c.get('logger').info('test webhook sent', {
        webhookId,
        outcome: result.outcome,
        statusCode: result.statusCode,
        durationMs: result.durationMs,
      })
      const { retryAfterMs: _retryAfter, ...attempt } = result
      return toResponse(json(200, { webhookId, url, at: new Date(at).toISOString(), ...attempt }))
    },
  )
}
