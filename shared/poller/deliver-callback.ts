/** One webhook delivery attempt of a task or event: endpoint health, the attempt in flight, the result and the next try. */
import { iso, toEpochSeconds } from '../epoch.ts'
import type { Logger } from '../logger.ts'
import { nextCallbackState, toDisabled, toSending } from '../webhooks/callback-states.ts'
import { endpointVerdict, recordEndpointOutcome } from '../webhooks/endpoint-health.ts'
import type { SendResult } from '../webhooks/send-webhook.ts'
import { SYSTEM_KEY_ID, secretsOfKey } from '../webhooks/webhook-secrets.ts'
import { type DeliveryLanes, endpointOf } from './delivery-lanes.ts'
import type { CallbackCarrier, CarrierKind, PollerDeps, ProcessOutcome } from './poller-deps.ts'
import { callbackRetryDelay } from './poller-settings.ts'

type Kind<T extends CallbackCarrier> = Pick<CarrierKind<T>, 'replace' | 'webhookId' | 'body'>

/** What a due callback calls for before any attempt (svix's worker has the same phases). */
type Preparation =
  | { readonly kind: 'skip' }
  /** Its endpoint as a whole is failing: wait for it, without spending one of the callback's tries. */
  | { readonly kind: 'wait'; readonly until: number }
  | { readonly kind: 'disabled'; readonly endpoint: string; readonly since: string }
  | { readonly kind: 'send'; readonly attempt: Attempt }

/** One attempt: where it goes, under which webhook-id, and what the store said of the endpoint. */
interface Attempt {
  readonly url: string
  readonly endpoint: string
  readonly webhookId: string
  readonly read: Awaited<ReturnType<PollerDeps['endpoints']['getWithKey']>>
  /** When the attempt log and a final item expire. */
  readonly retention: number
}

/** Phase 1: reads the endpoint's health and signing key, and decides what the callback needs. */
async function prepare<T extends CallbackCarrier>(
  deps: PollerDeps,
  held: T,
  kind: Kind<T>,
): Promise<Preparation> {
  const url = held.callback.url
  if (!url || !['scheduled', 'sending'].includes(held.callback.state)) return { kind: 'skip' }
  const endpoint = endpointOf(url)
  // The signing key is read with the endpoint's health: a secret rotated a moment ago signs now.
  const read = await deps.endpoints.getWithKey(held.keyId, endpoint)
  const verdict = endpointVerdict(read?.health, deps.now())
  if (verdict.kind === 'backoff') return { kind: 'wait', until: verdict.until }
  if (verdict.kind === 'disabled') return { kind: 'disabled', endpoint, since: verdict.since }
  const retention = toEpochSeconds(deps.now() + deps.settings.taskRetentionMs)
  return {
    kind: 'send',
    attempt: { url, endpoint, webhookId: kind.webhookId(held), read, retention },
  }
}

/**
 * Phase 2: marks the attempt as in flight before sending, so a crash now is seen and counted,
 * never hidden; an attempt a stopped run left in flight is logged as interrupted first. Undefined
 * when another worker changed the item meanwhile.
 */
async function start<T extends CallbackCarrier>(
  deps: PollerDeps,
  held: T,
  kind: Kind<T>,
  attempt: Attempt,
): Promise<{ readonly inFlight: T; readonly startedAt: number } | undefined> {
  if (held.callback.state === 'sending') {
    // Its outcome is unknown, so count it and send again (the receiver deduplicates on webhook-id).
    const interrupted = {
      attempt: held.callback.attempts,
      at: iso(deps.now()),
      url: attempt.url,
      webhookId: attempt.webhookId,
      outcome: 'interrupted' as const,
      error: 'the sending run stopped',
    }
    await deps.deliveries.record(held.id, interrupted, attempt.retention)
  }
  const startedAt = deps.now()
  const sending: T = {
    ...held,
    callback: toSending(held.callback, startedAt),
    dueAt: startedAt + deps.settings.callbackTimeoutMs + deps.settings.leaseMs,
  }
  if (!(await kind.replace(sending, held.version))) return undefined
  return { inFlight: { ...sending, version: held.version + 1 }, startedAt }
}

/** Phase 3: signs and sends the attempt, and records what it says of the endpoint's health. */
async function send<T extends CallbackCarrier>(
  deps: PollerDeps,
  held: T,
  kind: Kind<T>,
  attempt: Attempt,
  log: Logger,
  lanes: DeliveryLanes | undefined,
): Promise<{ readonly result: SendResult; readonly at: number }> {
  const { url, endpoint, webhookId, read } = attempt
  const secrets =
    read && held.keyId !== SYSTEM_KEY_ID
      ? secretsOfKey(held.keyId, read.key, deps.now(), undefined)
      : await deps.secretsFor(held.keyId)
  const result = await deps.sendWebhook({ url, id: webhookId, body: kind.body(held), secrets })
  const at = deps.now()
  // 410 speaks of one message and `blocked` of our policy: neither says the endpoint is down.
  if (result.outcome === 'delivered' || result.outcome === 'failed') {
    const outcome = { ok: result.outcome === 'delivered', error: result.error }
    const recorded = await recordEndpointOutcome(
      deps.endpoints,
      deps.logger,
      held.keyId,
      endpoint,
      outcome,
      at,
      deps.settings.endpointHealth,
      { health: read?.health },
    ).catch((error: unknown) => {
      log.warn('could not record the endpoint outcome', { error })
      return undefined
    })
    if (recorded?.backoffUntil !== undefined) lanes?.pause(url, recorded.backoffUntil)
  }
  return { result, at }
}

/** Phase 4: logs the attempt and writes the callback's next state (see `nextCallbackState`). */
async function record<T extends CallbackCarrier>(
  deps: PollerDeps,
  started: { readonly inFlight: T; readonly startedAt: number },
  attempt: Attempt,
  result: SendResult,
  at: number,
  save: (current: T, next: T) => Promise<boolean>,
  log: Logger,
): Promise<ProcessOutcome> {
  const { inFlight, startedAt } = started
  const attempts = inFlight.callback.attempts
  const { settings } = deps
  const { callback, dueAt } = nextCallbackState(inFlight.callback, result, at, {
    // (Drawn only for a failure: the jitter's randomness is spent on nothing else.)
    scheduledDelayMs:
      result.outcome === 'failed'
        ? callbackRetryDelay(settings, attempts - 1, deps.random)
        : undefined,
    retryAfterMinMs: settings.retryAfterMinMs,
    retryAfterMaxMs: settings.retryAfterMaxMs,
  })
  deps.metrics?.add('CallbackAttempts', 1, { dimensions: { Outcome: result.outcome } })
  if (callback.state === 'exhausted') deps.metrics?.add('CallbacksExhausted')
  const { url, webhookId, retention } = attempt
  const { outcome, statusCode, durationMs, error, responseSnippet } = result
  const entry = {
    attempt: attempts,
    at: iso(startedAt),
    url,
    webhookId,
    outcome,
    statusCode,
    durationMs,
    error,
    responseSnippet,
    nextAttemptAt: callback.nextAttemptAt,
  }
  await deps.deliveries.record(inFlight.id, entry, retention)
  const final = dueAt === undefined
  const ok = await save(inFlight, {
    ...inFlight,
    callback,
    dueAt,
    expiresAt: final ? retention : undefined,
  })
  if (outcome === 'delivered') log.info('callback delivered', { attempts, statusCode })
  else if (final)
    log.warn('callback not delivered; giving up', { state: callback.state, attempts, error })
  if (!ok) return 'lost'
  return outcome === 'delivered' ? 'delivered' : 'callback-failed'
}

/** One webhook delivery attempt of a held task, change or event, phase by phase. */
export async function deliverCallback<T extends CallbackCarrier>(
  deps: PollerDeps,
  held: T,
  log: Logger,
  kind: Kind<T>,
  lanes?: DeliveryLanes,
): Promise<ProcessOutcome> {
  const save = async (current: T, next: T) => {
    const ok = await kind.replace({ ...next, lease: undefined }, current.version)
    if (!ok) deps.logger.warn('lost a task update race', { taskId: current.id })
    return ok
  }
  const prepared = await prepare(deps, held, kind)
  switch (prepared.kind) {
    case 'skip':
      await save(held, { ...held, dueAt: undefined })
      return 'skipped'
    case 'wait':
      lanes?.pause(held.callback.url as string, prepared.until)
      return (await save(held, { ...held, dueAt: prepared.until })) ? 'deferred' : 'lost'
    case 'disabled': {
      const disabled = {
        ...held,
        callback: toDisabled(held.callback, prepared.endpoint, prepared.since),
        dueAt: undefined,
        expiresAt: toEpochSeconds(deps.now() + deps.settings.taskRetentionMs),
      }
      return (await save(held, disabled)) ? 'callback-failed' : 'lost'
    }
  }
  const { attempt } = prepared
  const started = await start(deps, held, kind, attempt)
  if (!started) return 'lost'
  const { result, at } = await send(deps, held, kind, attempt, log, lanes)
  return record(deps, started, attempt, result, at, save, log)
}
