import { z } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import type { Scope } from '#shared/tasks/task.ts'
import { type RateKind, rateKindFor } from '#shared/tenants/rate-limit.ts'
import { authenticate, requireAdmin, requireScope } from '../request/auth.ts'
import type { ApiDeps, AppEnv, Principal } from '../request/context.ts'
import { readJsonBody } from '../request/http.ts'
import { domainInPath } from '../request/scope-checks.ts'
import { parseOrThrow } from '../request/validate.ts'
import { DomainNameSchema } from '../schemas/common-schemas.ts'
import { type answer, type DocumentedRoute, problemResponses } from './route-document.ts'

/**
 * Who may call a route: the admin key, any valid tenant key (`key`), or a tenant key with one of
 * these scopes.
 */
type Access = 'admin' | 'key' | readonly Scope[]

/** A route: its OpenAPI description and what is checked before its handler runs, in this order. */
export interface RouteSpec {
  readonly method: 'get' | 'post' | 'put' | 'delete'
  readonly path: string
  readonly operationId: string
  readonly tags: readonly string[]
  readonly summary: string
  readonly description?: string
  /** Checked first, so a caller who may not call the route learns nothing from the others. */
  readonly access: Access
  /**
   * What a call spends of the tenant's rate limits: by default `reads` for a GET, `writes`
   * otherwise; `upstreamReads` for what reads Alibaba, `redeliveries` for sending webhooks again.
   */
  readonly rate?: RateKind
  /** …and with `dryRun=true` (a plan reads the registry). */
  readonly rateWhenDryRun?: RateKind
  /**
   * The domain named by `{name}`, once the caller may see it (`see`: 422 for a name that is not
   * one, 404 outside the key's scope) or also submit for it (`submit`: 409 for another tenant's).
   */
  readonly domain?: 'see' | 'submit'
  /** Path parameters parsed with their schemas (422 naming `path.<name>`). */
  readonly params?: z.ZodRawShape
  /** Path ids the handler looks up: documented, not parsed (one of another shape names nothing, 404). */
  readonly ids?: z.ZodRawShape
  readonly headers?: z.ZodObject
  /**
   * A JSON body parsed with `schema` (see `readJsonBody`: 400, 415, 422); absent when optional is
   * `{}`. `raw`: the handler parses it itself.
   */
  readonly body?: {
    readonly schema: z.ZodType
    readonly required: boolean
    readonly raw?: boolean
  }
  /** The query string parsed with this schema (422 naming `query.<name>`). */
  readonly query?: z.ZodType
  /** The success answers (see `answer`). */
  readonly responses: Record<number, ReturnType<typeof answer>>
  /** Problem statuses besides the access check's (401, and 403 where scopes are named). */
  readonly problems: readonly number[]
}

type Output<T> = T extends z.ZodType ? z.output<T> : undefined

/** What the checks found, typed by the route's spec. */
export interface RouteInput<S extends RouteSpec> {
  readonly principal: S['access'] extends 'admin' ? undefined : Principal
  readonly domain: S['domain'] extends string ? string : undefined
  readonly params: S['params'] extends z.ZodRawShape
    ? z.output<z.ZodObject<S['params']>>
    : undefined
  readonly body: S['body'] extends { raw: true }
    ? unknown
    : S['body'] extends { schema: infer B }
      ? Output<B>
      : undefined
  readonly query: Output<S['query']>
}

type Handler<S extends RouteSpec> = (
  c: Context<AppEnv>,
  input: RouteInput<S>,
) => Promise<Response> | Response

/** The route's OpenAPI description, built when the document is first asked for. */
function documented(spec: RouteSpec): DocumentedRoute {
  const admin = spec.access === 'admin'
  const params = { ...(spec.domain ? { name: DomainNameSchema } : {}), ...spec.params, ...spec.ids }
  const { body } = spec
  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    tags: [...spec.tags],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security: [admin ? { admin: [] } : { bearer: [] }],
    request: {
      ...(Object.keys(params).length > 0 ? { params: z.object(params) } : {}),
      ...(spec.query ? { query: spec.query as z.ZodObject } : {}),
      ...(spec.headers ? { headers: spec.headers } : {}),
      ...(body
        ? {
            body: {
              required: body.required,
              content: { 'application/json': { schema: body.schema } },
            },
          }
        : {}),
    },
    responses: {
      ...spec.responses,
      ...problemResponses(401, ...(Array.isArray(spec.access) ? [403] : []), ...spec.problems),
    },
  }
}

type Check = MiddlewareHandler<AppEnv>

/** The checks a route's spec asks for, as middleware in the order the spec gives. */
function checks(spec: RouteSpec, deps: ApiDeps): Check[] {
  const { access, domain, params, body, query } = spec
  const all: Check[] = [
    async (c, next) => {
      if (access === 'admin') requireAdmin(c, deps)
      else {
        const rate = rateKindFor(spec, c.req.query('dryRun') === 'true')
        c.set(
          'principal',
          access === 'key'
            ? await authenticate(c, deps, rate)
            : await requireScope(c, deps, rate, ...access),
        )
      }
      await next()
    },
  ]
  if (domain) {
    all.push(async (c, next) => {
      const submit = domain === 'submit'
      c.set('domain', await domainInPath(c, deps, c.get('principal') as Principal, { submit }))
      await next()
    })
  }
  if (params) {
    const schemas = Object.entries(params)
    all.push(async (c, next) => {
      const parsed = Object.fromEntries(
        schemas.map(([name, schema]) => [
          name,
          parseOrThrow(schema as z.ZodType, c.req.param(name), `path.${name}`),
        ]),
      )
      c.set('params', parsed)
      await next()
    })
  }
  if (body) {
    all.push(async (c, next) => {
      const json = await readJsonBody(c, { optional: !body.required })
      c.set('body', body.raw ? json : parseOrThrow(body.schema, json, 'body'))
      await next()
    })
  }
  if (query) {
    all.push(async (c, next) => {
      c.set('query', parseOrThrow(query, c.req.query(), 'query'))
      await next()
    })
  }
  return all
}

/** A route's checks then its handler, in the order they run. */
export type RouteChain = readonly MiddlewareHandler<AppEnv>[]

/**
 * Where a group's routes go when its module is first used (see `route-groups.ts`): each with its
 * chain, and `describe`, which builds the route's OpenAPI description.
 */
export interface RouteTable {
  add(method: string, path: string, chain: RouteChain, describe: () => DocumentedRoute): void
}

/** The path of a route as hono matches it (`{name}` → `:name`). */
export const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1')

/**
 * Defines a group's routes: each is described for the OpenAPI document and bound with its checks
 * as middleware before the handler. The checks use the schemas the document is generated from,
 * so the two cannot drift apart.
 */
export function routesOf(table: RouteTable, deps: ApiDeps) {
  return function route<const S extends RouteSpec>(spec: S, handler: Handler<S>): void {
    table.add(
      spec.method.toUpperCase(),
      honoPath(spec.path),
      [
        ...checks(spec, deps),
        async (c) =>
          handler(c, {
            principal: c.get('principal'),
            domain: c.get('domain'),
            params: c.get('params'),
            body: c.get('body'),
            query: c.get('query'),
          } as RouteInput<S>),
      ],
      () => documented(spec),
    )
  }
}
