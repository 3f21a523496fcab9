import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { type GatewayClient, type GatewayEvent, GatewayProblemError } from './index.ts'

/**
 * `domain-gateway listen`: follows the tenant's events (`GET /events?order=asc`) and forwards
 * each, signed the Standard Webhooks way with a local secret, to a URL on the developer's machine
 * — as `stripe listen --forward-to` does. The gateway's own deliveries are untouched.
 */

/** A fresh `whsec_…` secret for one listening session (printed, so the receiver can verify). */
export const newListenSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`

/**
 * How far back each look reaches before the newest event seen: an event is listed under when it
 * happened, and its write can land a little after a later one's. Ids seen are remembered, so
 * nothing is forwarded twice.
 */
const LOOKBACK_MS = 5 * 60_000

export interface ForwardResult {
  readonly status?: number | undefined
  readonly error?: string | undefined
  readonly durationMs: number
}

/** Sends one event to `url` as the gateway would: its body, its webhook id, signed now. */
export async function forwardEvent(
  event: GatewayEvent,
  url: string,
  secret: string,
  timeoutMs = 10_000,
): Promise<ForwardResult> {
  const body = JSON.stringify({ type: event.type, timestamp: event.timestamp, data: event.data })
  const at = new Date()
  const signature = new Webhook(secret).sign(event.id, at, body)
  const started = Date.now()
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': event.id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    await response.arrayBuffer()
    return { status: response.status, durationMs: Date.now() - started }
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause
    return { error: cause?.code ?? (error as Error).message, durationMs: Date.now() - started }
  }
}

export interface FollowOptions {
  /** Events that happened at or after this time (default: now). */
  readonly since?: Date | undefined
  /** Only these types (all when empty). */
  readonly types?: readonly string[] | undefined
  readonly intervalMs?: number | undefined
  readonly signal?: AbortSignal | undefined
}

/** Yields the tenant's events in the order they happened, new ones as they come, until aborted. */
export async function* followEvents(
  client: GatewayClient,
  options: FollowOptions = {},
): AsyncGenerator<GatewayEvent> {
  const seen = new Map<string, number>()
  let newest = (options.since ?? new Date()).getTime()
  const floor = newest
  const types = new Set(options.types ?? [])
  while (!options.signal?.aborted) {
    const since = new Date(Math.max(floor, newest - LOOKBACK_MS)).toISOString()
    let cursor: string | undefined
    do {
      const { data, error, response } = await client.GET('/events', {
        params: { query: { since, order: 'asc', limit: 100, cursor } },
      })
      if (error || !data) {
        throw new GatewayProblemError(
          (error as never) ?? { type: 'about:blank', title: 'Error', status: response.status },
        )
      }
      for (const event of data.items) {
        if (seen.has(event.id)) continue
        const at = Date.parse(event.timestamp)
        seen.set(event.id, at)
        newest = Math.max(newest, at)
        if (types.size === 0 || types.has(event.type)) yield event
      }
      cursor = data.nextCursor
    } while (cursor && !options.signal?.aborted)
    for (const [id, at] of seen) if (at < newest - 2 * LOOKBACK_MS) seen.delete(id)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.intervalMs ?? 1_000)
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}
