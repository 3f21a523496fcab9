import { type Dispatcher, type ResponseData, request } from '../http/undici-core.ts'
import { staticCallbackUrlProblem } from './callback-url.ts'
import { signWebhook } from './sign-webhook.ts'

export const MAX_RESPONSE_SNIPPET = 2_048

export interface WebhookMessage {
  readonly url: string
  /** Stable across retries: the receiver's dedupe key. */
  readonly id: string
  /** The exact bytes to send and sign. */
  readonly body: string
  readonly secrets: readonly string[]
}

export interface SendResult {
  readonly outcome: 'delivered' | 'failed' | 'gone' | 'blocked'
  readonly statusCode?: number | undefined
  readonly durationMs: number
  readonly error?: string | undefined
  readonly responseSnippet?: string | undefined
  /** From `Retry-After` on a 429 or 503, milliseconds. */
  readonly retryAfterMs?: number | undefined
}

export interface SendOptions {
  readonly dispatcher: Dispatcher
  /** Whether `http:` URLs may be called (the same setting the URL was checked with on entry). */
  readonly allowHttp: boolean
  readonly timeoutMs: number
  readonly now: () => number
}

function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (!text) return undefined
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

async function readSnippet(body: ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    chunks.push(chunk as Buffer)
    size += (chunk as Buffer).length
    if (size >= MAX_RESPONSE_SNIPPET) break
  }
  body.destroy()
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_SNIPPET).toString('utf8')
}

/**
 * One delivery attempt: signs and POSTs the message. 2xx is success; anything else (3xx included:
 * redirects are not followed), a timeout or a network error is a failure; 410 means the receiver
 * is gone. Never throws.
 */
export async function sendWebhook(
  message: WebhookMessage,
  options: SendOptions,
): Promise<SendResult> {
  const started = options.now()
  const timestamp = Math.floor(started / 1000)
  // Checked again at delivery: the URL may have been stored under an older, looser policy.
  const refused = staticCallbackUrlProblem(message.url, options.allowHttp)
  if (refused) return { outcome: 'blocked', durationMs: 0, error: refused }
  try {
    const response = await request(message.url, {
      method: 'POST',
      dispatcher: options.dispatcher,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'domain-gateway-webhooks/1.0',
        'webhook-id': message.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(message.secrets, message.id, timestamp, message.body),
      },
      body: message.body,
      signal: AbortSignal.timeout(options.timeoutMs),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    })
    const snippet = await readSnippet(response.body).catch(() => '')
    const statusCode = response.statusCode
    const durationMs = options.now() - started
    if (statusCode >= 200 && statusCode < 300) {
      return { outcome: 'delivered', statusCode, durationMs, responseSnippet: snippet }
    }
    return {
      outcome: statusCode === 410 ? 'gone' : 'failed',
      statusCode,
      durationMs,
      responseSnippet: snippet,
      error:
        statusCode >= 300 && statusCode < 400 ? 'redirects are not followed' : `HTTP ${statusCode}`,
      retryAfterMs:
        statusCode === 429 || statusCode === 503
          ? parseRetryAfter(response.headers['retry-after'], options.now())
          : undefined,
    }
  } catch (error) {
    const durationMs = options.now() - started
    const blocked = findBlocked(error)
    if (blocked) return { outcome: 'blocked', durationMs, error: blocked }
    const { name, code, message } = error as { name?: string; code?: string; message?: string }
    const timedOut =
      name === 'TimeoutError' ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT'
    return {
      outcome: 'failed',
      durationMs,
      error: timedOut
        ? `timed out after ${options.timeoutMs} ms`
        : [code, message].filter(Boolean).join(': ') || 'network error',
    }
  }
}

function findBlocked(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current; depth++) {
    if ((current as { code?: string }).code === 'ERR_CALLBACK_ADDRESS_BLOCKED') {
      return `address blocked: ${(current as Error).message}`
    }
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}
