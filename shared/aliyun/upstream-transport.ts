import type * as z from 'zod'
import { loadUndici, type Pool } from '../http/undici-core.ts'
import { ClockSkewTracker } from './clock-skew.ts'
import type { DomainApiSettings } from './domain-api-settings.ts'
import type { DomainAction } from './domain-api-types.ts'
import { ErrorResponseSchema } from './responses.ts'
import {
  type CallKind,
  classifyErrorResponse,
  classifyTransportFailure,
  Retryability,
  UpstreamError,
} from './upstream-error.ts'

const MAX_ERROR_BODY = 2_048

const pools = new Map<string, Promise<Pool>>()
const skews = new Map<string, ClockSkewTracker>()

/** The value kept for the endpoint's origin, made on first use. */
function perOrigin<T>(cache: Map<string, T>, endpoint: string, make: (origin: string) => T): T {
  const origin = new URL(endpoint).origin
  let value = cache.get(origin)
  if (value === undefined) {
    value = make(origin)
    cache.set(origin, value)
  }
  return value
}

/** One clock-offset tracker per upstream origin per process. */
export function sharedClockSkew(config: DomainApiSettings): ClockSkewTracker {
  return perOrigin(skews, config.endpoint, () => new ClockSkewTracker())
}

/**
 * One keep-alive pool per upstream origin per process, shared by every client instance; made
 * (and undici loaded) at the first call, not at start.
 */
export function sharedUpstreamPool(config: DomainApiSettings): Promise<Pool> {
  return perOrigin(pools, config.endpoint, async (origin) => {
    const { Pool } = await loadUndici()
    return new Pool(origin, {
      connections: config.maxConnections,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 30_000,
      connect: { timeout: config.connectTimeoutMs },
    })
  })
}

/** Turns an HTTP answer into the parsed result or an {@link UpstreamError}. Exported for tests. */
export function parseResponse<S extends z.ZodType>(
  action: DomainAction,
  kind: CallKind,
  schema: S,
  status: number,
  text: string,
): z.infer<S> {
  let body: unknown
  let parseFailure: unknown
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text)
    } catch (error) {
      parseFailure = error
    }
  }
  // Only answers that carry a `Code` (or a non-2xx status) are errors: check cheaply first, and
  // run the schema only then, so a successful call pays for one parse.
  const hasCode = typeof (body as { Code?: unknown } | undefined)?.Code === 'string'
  const errorBody = hasCode || status >= 300 ? ErrorResponseSchema.safeParse(body) : undefined
  if (errorBody?.success || status >= 300) {
    const code = errorBody?.success ? errorBody.data.Code : `Http${status}`
    const message = errorBody?.success
      ? (errorBody.data.Message ?? code)
      : text.trim() === ''
        ? `HTTP ${status} with an empty body`
        : `HTTP ${status}: ${text.slice(0, MAX_ERROR_BODY)}`
    throw new UpstreamError({
      action,
      code,
      message,
      requestId: errorBody?.success ? errorBody.data.RequestId : undefined,
      httpStatus: status,
      retryability: classifyErrorResponse(kind, status, errorBody?.success ? code : undefined),
    })
  }
  if (body === undefined) {
    throw new UpstreamError({
      action,
      code: 'MalformedResponse',
      message: parseFailure ? 'the response body is not JSON' : 'the response body is empty',
      httpStatus: status,
      retryability: classifyTransportFailure(kind, parseFailure),
      cause: parseFailure,
    })
  }
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    throw new UpstreamError({
      action,
      code: 'UnexpectedResponse',
      message: `the response does not match the expected shape: ${parsed.error.issues
        .map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`)
        .join('; ')}`,
      requestId: (body as { RequestId?: string }).RequestId,
      httpStatus: status,
      // A write answered 200 may have created its task even if we cannot read the TaskNo.
      retryability: kind === 'write' ? Retryability.ambiguous : Retryability.final,
    })
  }
  return parsed.data
}

export function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string }).name
  const code = (error as { code?: string }).code
  return (
    name === 'TimeoutError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  )
}

export function describeTransportError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  return [code, message].filter(Boolean).join(': ') || 'network error'
}
