/** One webhook delivery attempt of a task or event: endpoint health, the attempt in flight, the result and the next try. */
import { toEpochSeconds } from '../epoch.ts'
import type { Logger } from '../logger.ts'
import { endpointVerdict, recordEndpointOutcome } from '../webhooks/endpoint-health.ts'
import { SYSTEM_KEY_ID, secretsOfKey } from '../webhooks/webhook-secrets.ts'
import { type DeliveryLanes, endpointOf } from './delivery-lanes.ts'
import type { CallbackCarrier, CarrierKind, PollerDeps, ProcessOutcome } from './poller-deps.ts'
import { callbackRetryDelay } from './settings.ts'
import { iso } from './task-outcome.ts'

export async function deliverCallback<T extends CallbackCarrier>(
  deps: PollerDeps,
  held: T,
  log: Logger,
  kind: Pick<CarrierKind<T>, 'replace' | 'webhookId' | 'body'>,
  lanes?: DeliveryLanes,
): Promise<ProcessOutcome> {
  const save = async (current: T, next: T) => {
    const ok = await kind.replace({ ...next, lease: undefined }, current.version)
    if (!ok) deps.logger.warn('lost a task update race', { taskId: current.id })
    return ok
  }
  const url = held.callback.url
  if (!url || !['scheduled', 'sending'].includes(held.callback.state)) {
    await save(held, { ...held, dueAt: undefined })
    return 'skipped'
  }
  const webhookId = kind.webhookId(held)
  const retention = toEpochSeconds(deps.now() + deps.settings.taskRetentionMs)
  const endpoint = endpointOf(url)
  // The signing key is read with the endpoint's health: a secret rotated a moment ago signs now.
  const read = await deps.endpoints.getWithKey(held.keyId, endpoint)
  const health = read?.health
  const verdict = endpointVerdict(health, deps.now())
  if (verdict.kind === 'backoff') {
    // The endpoint as a whole is failing: wait for it, without spending one of this task's tries.
    lanes?.pause(url, verdict.until)
    const ok = await save(held, { ...held, dueAt: verdict.until })
    return ok ? 'deferred' : 'lost'
  }
  if (verdict.kind === 'disabled') {
    const ok = await save(held, {
      ...held,
      callback: {
        ...held.callback,
        state: 'disabled',
        nextAttemptAt: undefined,
        lastError: `the endpoint ${endpoint} is disabled since ${verdict.since}`,
      },
      dueAt: undefined,
      expiresAt: retention,
    })
    return ok ? 'callback-failed' : 'lost'
  }
  let attempts = held.callback.attempts
  if (held.callback.state === 'sending') {
    // The previous attempt's run stopped mid-flight: its outcome is unknown, so count it and send
    // again (the receiver deduplicates on webhook-id).
    await deps.deliveries.record(
      held.id,
      {
        attempt: attempts,
        at: iso(deps.now()),
        url,
        webhookId,
        outcome: 'interrupted',
        error: 'the sending run stopped',
      },
      retention,
    )
  }
  // Mark the attempt as in flight before sending: a crash now is seen and counted, never hidden.
  attempts += 1
  const startedAt = deps.now()
  const sending: T = {
    ...held,
    callback: { ...held.callback, state: 'sending', attempts, lastAttemptAt: iso(startedAt) },
    dueAt: startedAt + deps.settings.callbackTimeoutMs + deps.settings.leaseMs,
  }
  if (!(await kind.replace(sending, held.version))) return 'lost'
  const inFlight: T = { ...sending, version: held.version + 1 }

  const secrets =
    read && held.keyId !== SYSTEM_KEY_ID
      ? secretsOfKey(held.keyId, read.key, deps.now(), undefined)
      : await deps.secretsFor(held.keyId)
  const result = await deps.sendWebhook({ url, id: webhookId, body: kind.body(held), secrets })
  const at = deps.now()
  // 410 speaks of one message and `blocked` of our policy: neither says the endpoint is down.
  if (result.outcome === 'delivered' || result.outcome === 'failed') {
    const recorded = await recordEndpointOutcome(
      deps.endpoints,
      deps.logger,
      held.keyId,
      endpoint,
      { ok: result.outcome === 'delivered', error: result.error },
      at,
      deps.settings.endpointHealth,
      { health },
    ).catch((error: unknown) => {
      log.warn('could not record the endpoint outcome', { error })
      return undefined
    })
    if (recorded?.backoffUntil !== undefined) lanes?.pause(url, recorded.backoffUntil)
  }

  let callback: CallbackCarrier['callback']
  let dueAt: number | undefined
  if (result.outcome === 'delivered') {
    callback = {
      ...inFlight.callback,
      state: 'delivered',
      deliveredAt: iso(at),
      nextAttemptAt: undefined,
      lastError: undefined,
    }
  } else if (result.outcome === 'gone' || result.outcome === 'blocked') {
    callback = {
      ...inFlight.callback,
      state: result.outcome,
      nextAttemptAt: undefined,
      lastError: result.error,
    }
  } else {
    const delay = callbackRetryDelay(deps.settings, attempts - 1, deps.random)
    if (delay === undefined) {
      callback = {
        ...inFlight.callback,
        state: 'exhausted',
        nextAttemptAt: undefined,
        lastError: result.error,
      }
    } else {
      const wait =
        result.retryAfterMs === undefined
          ? delay
          : Math.min(
              deps.settings.retryAfterMaxMs,
              Math.max(deps.settings.retryAfterMinMs, result.retryAfterMs),
            )
      dueAt = at + wait
      callback = {
        ...inFlight.callback,
        state: 'scheduled',
        nextAttemptAt: iso(dueAt),
        lastError: result.error,
      }
    }
  }
  deps.metrics?.add('CallbackAttempts', 1, { dimensions: { Outcome: result.outcome } })
  if (callback.state === 'exhausted') deps.metrics?.add('CallbacksExhausted')
  await deps.deliveries.record(
    held.id,
    {
      attempt: attempts,
      at: iso(startedAt),
      url,
      webhookId,
      outcome: result.outcome,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
      responseSnippet: result.responseSnippet,
      nextAttemptAt: callback.nextAttemptAt,
    },
    retention,
  )
  const final = dueAt === undefined
  const ok = await save(inFlight, {
    ...inFlight,
    callback,
    dueAt,
    expiresAt: final ? retention : undefined,
  })
  if (result.outcome === 'delivered')
    log.info('callback delivered', { attempts, statusCode: result.statusCode })
  else if (final)
    log.warn('callback not delivered; giving up', {
      state: callback.state,
      attempts,
      error: result.error,
    })
  if (!ok) return 'lost'
  return result.outcome === 'delivered' ? 'delivered' : 'callback-failed'
}
