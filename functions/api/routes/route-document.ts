import { type RouteConfig, z } from '@hono/zod-openapi'
import type { App } from '../request/context.ts'
import { ProblemSchema } from '../schemas/common-schemas.ts'

/** Statuses whose problem answers carry `Retry-After` (409 only for a key still in use). */
const RETRY_AFTER_STATUSES = new Set([409, 429, 503])

const RetryAfterHeaders = z.object({
  'Retry-After': z
    .string()
    .optional()
    .openapi({ description: 'Seconds to wait before trying again.', example: '5' }),
})

/** Headers a problem of some statuses carries besides `X-Request-Id`. */
const PROBLEM_HEADERS: Record<number, z.ZodObject> = {
  401: z.object({
    'WWW-Authenticate': z
      .string()
      .openapi({ description: 'The scheme to use.', example: 'Bearer' }),
  }),
  413: z.object({
    Connection: z.string().openapi({
      description: '`close`: the rest of the body was not read.',
      example: 'close',
    }),
  }),
  415: z.object({
    Accept: z.string().openapi({ description: 'What bodies may be.', example: 'application/json' }),
  }),
}

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: 'A problem (RFC 9457).',
        ...(RETRY_AFTER_STATUSES.has(status) ? { headers: RetryAfterHeaders } : {}),
        ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  )

/** Sent on every answer. */
const RequestIdHeader = z.string().openapi({
  description:
    "The request's id: the caller's `X-Request-Id` when it is 1–128 of `A-Za-z0-9_=-`, a fresh UUID otherwise. Every log line of the request carries it.",
  example: '5f0c2a4e-9b1d-4a7e-8e42-0c1b2d3e4f50',
})

/** Sent by routes that take an `Idempotency-Key` when the answer is the stored first one. */
const ReplayedHeader = z.enum(['true']).openapi({
  description: 'Present when this is the stored answer to an earlier request with the same key.',
})

type Responses = RouteConfig['responses']

/** Sent on every answer to a tenant's key (see tenants/rate-limit.ts). */
const RateLimitHeaders = {
  'RateLimit-Policy': z.string().optional().openapi({
    description:
      "The tenant's limit for this kind of request (IETF draft-ietf-httpapi-ratelimit-headers): its name, `q` requests per `w` seconds.",
    example: '"writes";q=600;w=60',
  }),
  RateLimit: z.string().optional().openapi({
    description: 'What is left of it: `r` requests in the next `t` seconds.',
    example: '"writes";r=512;t=21',
  }),
}

/**
 * Adds the headers the gateway sends on every answer (and on replayable ones) to a route; a route
 * a tenant's key calls (`limited`) may also answer 429 and carries the `RateLimit` fields.
 */
function withCommonHeaders(responses: Responses, replayable: boolean, limited: boolean): Responses {
  const all: Responses =
    limited && !('429' in responses) ? { ...responses, ...problemResponses(429) } : responses
  return Object.fromEntries(
    Object.entries(all).map(([status, response]) => {
      if ('$ref' in response) return [status, response]
      const own = response.headers instanceof z.ZodObject ? response.headers.shape : {}
      const headers = z.object({
        ...own,
        'X-Request-Id': RequestIdHeader,
        ...(replayable ? { 'Idempotent-Replayed': ReplayedHeader.optional() } : {}),
        ...(limited ? RateLimitHeaders : {}),
      })
      return [status, { ...response, headers }]
    }),
  )
}

/** Routes not yet in the app's OpenAPI registry: they go in when the document is first asked for. */
const undocumented = new WeakMap<App, (() => DocumentedRoute)[]>()

/** Every documented route has an `operationId` (what generated clients name their methods). */
export type DocumentedRoute = RouteConfig & {
  readonly operationId: string
  readonly tags: string[]
}

/** A success answer: its description, the JSON body's schema and the headers it carries. */
export const answer = (description: string, schema?: z.ZodType, headers?: z.ZodObject) => ({
  description,
  ...(headers ? { headers } : {}),
  ...(schema ? { content: { 'application/json': { schema } } } : {}),
})

/** Keeps a route for the OpenAPI document (see `registerDocumentedRoutes`). */
export function documentRoute(app: App, route: () => DocumentedRoute): void {
  const pending = undocumented.get(app) ?? []
  undocumented.set(app, pending)
  pending.push(route)
}

/**
 * Puts the routes defined so far in the app's OpenAPI registry, with the headers every answer
 * carries. Called when the document is first generated, not at cold start: the document is
 * rarely asked for, and building its schemas and header schemas for every response takes time.
 */
export function registerDocumentedRoutes(app: App): void {
  for (const define of undocumented.get(app) ?? []) {
    const route = define()
    const headers = route.request?.headers
    const replayable = headers instanceof z.ZodObject && 'Idempotency-Key' in headers.shape
    const limited = (route.security ?? []).some((requirement) => 'bearer' in requirement)
    app.openAPIRegistry.registerPath({
      ...route,
      responses: withCommonHeaders(route.responses, replayable, limited),
    })
  }
  undocumented.delete(app)
}
