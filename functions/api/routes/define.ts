import type { RouteConfig } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { App, AppEnv } from '../context.ts'
import { ProblemSchema } from '../schemas.ts'

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: 'A problem (RFC 9457).',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  )

interface RouteEntry {
  readonly method: string
  readonly pattern: RegExp
}
const routesByApp = new WeakMap<App, RouteEntry[]>()

/** The methods an app serves on a path, for 405 answers. */
export function methodsFor(app: App, path: string): string[] {
  const routes = routesByApp.get(app) ?? []
  return [
    ...new Set(routes.filter((route) => route.pattern.test(path)).map((route) => route.method)),
  ]
}

/**
 * Registers a route in the OpenAPI document and binds its handler. The handler validates with the
 * same schemas the document is generated from, so the two cannot drift apart.
 */
export function defineRoute(
  app: App,
  route: RouteConfig,
  handler: (c: Context<AppEnv>) => Promise<Response> | Response,
): void {
  app.openAPIRegistry.registerPath(route)
  const honoPath = route.path.replace(/\{(\w+)\}/g, ':$1')
  const routes = routesByApp.get(app) ?? []
  routesByApp.set(app, routes)
  routes.push({
    method: route.method.toUpperCase(),
    // Exactly the paths the router serves: `/tasks/` is not `/tasks` (a 404, not a 405).
    pattern: new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+')}$`),
  })
  app.on(route.method.toUpperCase(), honoPath, handler)
}
