import { HTTPException } from 'hono/http-exception'
import {
  codeClass,
  isCallerInputCode,
  isGatewayFault,
  tenantMessage,
  UpstreamError,
} from '#shared/aliyun/upstream-error.ts'
import {
  AuthenticationError,
  ConflictError,
  IdempotencyInFlightError,
  IdempotencyKeyReuseError,
  MalformedBodyError,
  NotFoundError,
  PermissionError,
  QueueFullError,
  RateLimitedError,
  RequestValidationError,
  StoreUnavailableError,
  UnsupportedMediaTypeError,
} from '#shared/errors.ts'
import { InvalidCursorError } from '#shared/http/cursor.ts'
import { UnsafeChangeError } from '#shared/preflight/preflight.ts'
import { CallbackUrlRefusedError } from '#shared/webhooks/callback-url.ts'

/** An RFC 9457 problem details object, plus extension members. */
export interface Problem {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail?: string | undefined
  readonly instance?: string | undefined
  readonly [extension: string]: unknown
}

export interface ProblemResponse {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: Problem
}

/** Problem types resolve against the API's own docs page, which lists them. */
export const problemType = (slug: string): string => `/docs#problem-${slug}`

export const PROBLEM_TYPES = {
  'invalid-request': 'The request does not meet the documented rules; see `errors`.',
  'malformed-json': 'The body is not valid JSON.',
  'callback-url-refused':
    'The callback URL is not allowed: not https, has credentials, cannot be resolved, or resolves to a private, loopback, link-local or other internal address.',
  'unsupported-media-type': 'Bodies must be `application/json`.',
  'payload-too-large': 'The body is larger than the configured limit.',
  unauthenticated: 'A valid `Authorization: Bearer <key>` header is required.',
  forbidden: 'The API key lacks the scope this route needs.',
  'not-found': 'No such resource (or not yours).',
  'method-not-allowed': 'The route exists but not with this method.',
  'idempotency-key-in-use': 'The first request with this key is still running; retry later.',
  'idempotency-key-reused': 'The key was used before with a different request.',
  'upstream-rejected': 'Alibaba Cloud refused the request; `upstreamCode` says why.',
  'upstream-busy': 'Another task is running on this domain at Alibaba Cloud; retry later.',
  'upstream-throttled': 'Alibaba Cloud is throttling; retry after `Retry-After`.',
  'upstream-unavailable': 'Alibaba Cloud could not be reached; retry after `Retry-After`.',
  'upstream-misconfigured': "Alibaba Cloud refused the gateway's own credentials or clock.",
  'queue-full':
    'Too many tasks already wait for this domain or instance (see the queue bound in the API reference); nothing was accepted. Retry after `Retry-After`.',
  'rate-limited':
    "The tenant's requests of this kind for the current minute are spent (see `RateLimit-Policy`); nothing was done. Retry after `Retry-After`.",
  'not-submitted':
    'Nothing reached Alibaba Cloud (the request could not be sent in time, or the clocks disagree); retry after `Retry-After`, with the same Idempotency-Key if you like.',
  'store-unavailable': 'The task store could not be reached; retry after `Retry-After`.',
  conflict: 'The resource changed or is in a state that does not allow this.',
  'unsafe-change':
    "The change's pre-flight check found that after it no DS record would validate the DNSKEY RRset some server of the zone serves (validating resolvers would answer SERVFAIL for the whole zone); nothing was written or sent. `safety` names, per server and address, what it serves and which DS would be left. Send `force: true` (`?force=true` on `DELETE`) to carry it out anyway.",
  'unverified-change':
    "The change's pre-flight check could not ask the servers that will answer for the zone (no answer, refused, lame, no address) and the gateway refuses unverified changes (`PREFLIGHT_UNVERIFIED=refuse`); nothing was written or sent. `safety` says why. Send `force: true` to carry it out anyway.",
  internal: 'An unexpected error; the request id identifies it in the logs.',
} as const
export type ProblemSlug = keyof typeof PROBLEM_TYPES

const TITLES: Record<ProblemSlug, string> = {
  'invalid-request': 'Invalid request',
  'malformed-json': 'Malformed JSON',
  'callback-url-refused': 'Callback URL refused',
  'unsupported-media-type': 'Unsupported media type',
  'payload-too-large': 'Payload too large',
  unauthenticated: 'Unauthenticated',
  forbidden: 'Forbidden',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  'idempotency-key-in-use': 'Idempotency key in use',
  'idempotency-key-reused': 'Idempotency key reused',
  'upstream-rejected': 'Rejected by Alibaba Cloud',
  'upstream-busy': 'Domain busy at Alibaba Cloud',
  'upstream-throttled': 'Throttled by Alibaba Cloud',
  'upstream-unavailable': 'Alibaba Cloud unavailable',
  'upstream-misconfigured': 'Gateway misconfigured for Alibaba Cloud',
  'queue-full': 'Queue full',
  'rate-limited': 'Rate limited',
  'not-submitted': 'Not submitted',
  'store-unavailable': 'Task store unavailable',
  conflict: 'Conflict',
  'unsafe-change': 'Unsafe change',
  'unverified-change': 'Unverified change',
  internal: 'Internal error',
}

export function problem(
  slug: ProblemSlug,
  status: number,
  detail?: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): ProblemResponse {
  return {
    status,
    headers,
    body: { type: problemType(slug), title: TITLES[slug], status, detail, ...extensions },
  }
}

/** A problem the caller may send again after `seconds` (`Retry-After`). */
function retryLater(
  slug: ProblemSlug,
  status: number,
  detail: string,
  seconds: number,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): ProblemResponse {
  return problem(slug, status, detail, extensions, { 'retry-after': String(seconds), ...headers })
}

export function upstreamProblem(error: UpstreamError, extensions: Record<string, unknown> = {}) {
  const upstream = { upstreamCode: error.code, upstreamRequestId: error.requestId, ...extensions }
  if (error.code === 'TaskIsBeingProcessed') {
    return retryLater('upstream-busy', 409, tenantMessage(error), 30, upstream)
  }
  if (error.neverReachedService) {
    return retryLater(
      'not-submitted',
      503,
      error.code === 'ClockSkewTooLarge'
        ? "The gateway's clock is too far from Alibaba Cloud's; nothing was submitted."
        : 'The request could not reach Alibaba Cloud in time; nothing was submitted.',
      5,
      upstream,
    )
  }
  if (codeClass(error.code) === 'refused-retry') {
    return retryLater(
      'upstream-throttled',
      429,
      'Alibaba Cloud is throttling requests.',
      5,
      upstream,
    )
  }
  if (error.retryability === 'retryable') {
    return retryLater(
      'upstream-unavailable',
      503,
      'Alibaba Cloud could not be reached.',
      10,
      upstream,
    )
  }
  if (isCallerInputCode(error.code)) {
    return problem('upstream-rejected', 422, tenantMessage(error), upstream)
  }
  if (isGatewayFault(error.code)) {
    // The caller did nothing wrong; do not echo the upstream message (it holds the StringToSign).
    return problem(
      'upstream-misconfigured',
      502,
      'Alibaba Cloud refused the gateway credentials.',
      upstream,
    )
  }
  return problem('upstream-rejected', 422, tenantMessage(error), upstream)
}

/** The one place that turns an error into an HTTP answer. Unknown errors become a bare 500. */
export function problemFor(error: unknown): ProblemResponse {
  if (error instanceof RequestValidationError) {
    return problem('invalid-request', 422, error.message, { errors: error.issues })
  }
  if (error instanceof CallbackUrlRefusedError) {
    return problem('callback-url-refused', 400, error.message, {
      errors: [{ path: 'body.callbackUrl', message: error.message }],
    })
  }
  if (error instanceof MalformedBodyError) return problem('malformed-json', 400, error.message)
  if (error instanceof UnsupportedMediaTypeError) {
    return problem('unsupported-media-type', 415, error.message, {}, { accept: 'application/json' })
  }
  if (error instanceof InvalidCursorError) return problem('invalid-request', 422, error.message)
  if (error instanceof AuthenticationError) {
    return problem('unauthenticated', 401, error.message, {}, { 'www-authenticate': 'Bearer' })
  }
  if (error instanceof PermissionError) return problem('forbidden', 403, error.message)
  if (error instanceof NotFoundError) return problem('not-found', 404, error.message)
  if (error instanceof IdempotencyInFlightError) {
    return retryLater('idempotency-key-in-use', 409, error.message, error.retryAfterSeconds)
  }
  if (error instanceof IdempotencyKeyReuseError)
    return problem('idempotency-key-reused', 422, error.message)
  if (error instanceof UnsafeChangeError) {
    const slug = error.safety.verdict === 'unsafe' ? 'unsafe-change' : 'unverified-change'
    return problem(slug, 409, error.message, { safety: error.safety })
  }
  if (error instanceof ConflictError) return problem('conflict', 409, error.message)
  if (error instanceof QueueFullError) {
    return retryLater('queue-full', 429, error.message, error.retryAfterSeconds)
  }
  if (error instanceof RateLimitedError) {
    return retryLater(
      'rate-limited',
      429,
      error.message,
      error.retryAfterSeconds,
      {},
      error.headers,
    )
  }
  if (error instanceof UpstreamError) return upstreamProblem(error)
  if (error instanceof StoreUnavailableError) {
    return retryLater('store-unavailable', 503, 'The task store could not be reached.', 5)
  }
  if (error instanceof HTTPException) {
    if (error.status === 400) return problem('malformed-json', 400, 'The body is not valid JSON.')
    if (error.status === 413) return problem('payload-too-large', 413, 'The body is too large.')
    return problem('invalid-request', error.status, error.message)
  }
  return problem('internal', 500, 'An unexpected error occurred.')
}

export function problemToResponse(problemResponse: ProblemResponse, instance?: string): Response {
  const body = instance ? { ...problemResponse.body, instance } : problemResponse.body
  return new Response(JSON.stringify(body), {
    status: problemResponse.status,
    headers: { 'content-type': 'application/problem+json', ...problemResponse.headers },
  })
}
