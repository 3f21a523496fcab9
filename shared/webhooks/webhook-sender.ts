import { addressPolicy } from './address-policy.ts'
import type { CallbackSettings } from './callback-settings.ts'
import { createGuardedAgent } from './guarded-agent.ts'
import { type SendResult, sendWebhook, type WebhookMessage } from './send-webhook.ts'

/**
 * Sends webhooks through one guarded agent (see guarded-agent.ts) with the configured timeout and
 * address policy. The agent — and undici with it — is made at the first send, not at cold start.
 */
export function webhookSender(
  callbacks: CallbackSettings,
  now: () => number,
): (message: WebhookMessage) => Promise<SendResult> {
  let dispatcher: ReturnType<typeof createGuardedAgent> | undefined
  return async (message) => {
    dispatcher ??= createGuardedAgent(addressPolicy(callbacks))
    return sendWebhook(message, {
      dispatcher: await dispatcher,
      timeoutMs: callbacks.timeoutMs,
      allowHttp: callbacks.allowHttp,
      now,
    })
  }
}
