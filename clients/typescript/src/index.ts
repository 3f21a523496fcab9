import createClient, { type Client, type ClientOptions } from 'openapi-fetch'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import type { components, paths, webhooks } from './schema.d.ts'

export type { components, paths, webhooks } from './schema.d.ts'
export { WebhookVerificationError }

export type Task = components['schemas']['Task']
export type TaskStatus = Task['status']
export type Problem = components['schemas']['Problem']
export type Change = components['schemas']['Change']
/** An event as `GET /events` shows it: its webhook id, type, body data and delivery. */
export type GatewayEvent = components['schemas']['Event']
export type ApiKey = components['schemas']['ApiKey']
export type CreatedApiKey = components['schemas']['CreatedApiKey']

/** Every event the gateway sends, by its `type`: `{ type, timestamp, data }`. */
export type WebhookEvent = {
  [K in keyof webhooks]: NonNullable<
    webhooks[K]['post']['requestBody']
  >['content']['application/json']
}[keyof webhooks]
export type WebhookEventType = WebhookEvent['type']
export type WebhookEventOf<T extends WebhookEventType> = Extract<WebhookEvent, { type: T }>

export const FINAL_STATUSES: readonly TaskStatus[] = [
  'succeeded',
  'failed',
  'partially_failed',
  'rejected',
  'unknown',
]

export interface GatewayClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** The gateway's origin, e.g. `https://abc123.execute-api.eu-central-1.amazonaws.com`. */
  readonly baseUrl: string
  /** A tenant key (`dgw_…`) or, for the admin routes, the `ADMIN_API_KEY`. */
  readonly apiKey: string
}

export type GatewayClient = Client<paths>

/**
 * A client whose every route, parameter, body and answer is typed from the gateway's OpenAPI
 * document. Each call resolves to `{ data, error, response }`: `data` on 2xx, `error` (a
 * problem+json `Problem`) otherwise; it throws only when the gateway cannot be reached.
 *
 * ```ts
 * const gateway = createGatewayClient({ baseUrl, apiKey })
 * const { data: task, error } = await gateway.POST('/domains/{name}/ds', {
 *   params: { path: { name: 'example.com' }, header: { 'Idempotency-Key': 'add-2371' } },
 *   body: { dnskey: '257 3 13 mdsswUyr3DPW…' },
 * })
 * ```
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const { apiKey, headers, ...rest } = options
  return createClient<paths>({
    ...rest,
    headers: {
      ...(headers as Record<string, string> | undefined),
      authorization: `Bearer ${apiKey}`,
    },
  })
}

/** The gateway answered with a problem (RFC 9457): `problem.status` says which (404: no such thing). */
export class GatewayProblemError extends Error {
  override name = 'GatewayProblemError'
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ''}`)
  }
}

/** Raised by a wait that ran out of time (`waitForTask`, `waitForChange`). */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError'
}

/** Raised by `waitForTask` when the task is not final in time. */
export class TaskWaitTimeoutError extends WaitTimeoutError {
  override name = 'TaskWaitTimeoutError'
  constructor(readonly task: Task) {
    super(`task ${task.id} is still ${task.status}`)
  }
}

/** Raised by `waitForChange` when the change is not final in time. */
export class ChangeWaitTimeoutError extends WaitTimeoutError {
  override name = 'ChangeWaitTimeoutError'
  constructor(readonly change: Change) {
    super(`change ${change.id} is still ${change.status}`)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Reads a task until it is final (the webhook is the better way to learn it; this is for scripts
 * and tests). Waits `Retry-After`-like steps, at most `timeoutMs`.
 */
export async function waitForTask(
  client: GatewayClient,
  id: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Task> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  for (;;) {
    const { data, error } = await client.GET('/tasks/{id}', { params: { path: { id } } })
    if (error) throw new GatewayProblemError(error)
    if (data.done) return data
    if (Date.now() >= deadline) throw new TaskWaitTimeoutError(data)
    await sleep(options.intervalMs ?? 2_000)
  }
}

/** Reads a desired-state change until every step is final (as `waitForTask`). */
export async function waitForChange(
  client: GatewayClient,
  id: string,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Change> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  for (;;) {
    const { data, error } = await client.GET('/changes/{id}', { params: { path: { id } } })
    if (error) throw new GatewayProblemError(error)
    if (data.done) return data
    if (Date.now() >= deadline) throw new ChangeWaitTimeoutError(data)
    await sleep(options.intervalMs ?? 2_000)
  }
}

/**
 * Verifies a webhook as it arrived (the raw body, exactly as received, and its headers) with the
 * API key's `whsec_…` secret, and returns the typed event. Throws `WebhookVerificationError` for
 * a wrong signature or a timestamp more than 5 minutes off. Deduplicate on `webhook-id`.
 */
export function verifyWebhook(
  secret: string,
  body: string,
  headers: Headers | Record<string, string | string[] | undefined>,
): WebhookEvent {
  const get = (name: string) => {
    const value =
      headers instanceof Headers
        ? headers.get(name)
        : (headers[name] ?? headers[name.toLowerCase()])
    return Array.isArray(value) ? value.join(',') : (value ?? '')
  }
  return new Webhook(secret).verify(body, {
    'webhook-id': get('webhook-id'),
    'webhook-timestamp': get('webhook-timestamp'),
    'webhook-signature': get('webhook-signature'),
  }) as WebhookEvent
}
