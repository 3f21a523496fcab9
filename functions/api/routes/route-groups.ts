import type { MiddlewareHandler } from 'hono'
import { every } from 'hono/combine'
import type { ApiDeps, App, AppEnv } from '../request/context.ts'
import { honoPath, type RouteTable } from './route.ts'
import { type DocumentedRoute, documentRoute } from './route-document.ts'

type Method = 'get' | 'post' | 'put' | 'delete'
type Register = (table: RouteTable, deps: ApiDeps) => void

interface LoadedGroup {
  readonly chains: ReadonlyMap<string, MiddlewareHandler<AppEnv>>
  readonly descriptions: readonly (() => DocumentedRoute)[]
}

/**
 * A group of routes: the methods and paths it answers, in the order it defines them, and how its
 * module (its schemas, specs and handlers) is loaded. `route-groups.test.ts` checks each list
 * against what its module defines.
 */
export interface RouteGroup {
  readonly name: string
  readonly routes: readonly (readonly [Method, string])[]
  readonly load: () => Promise<Register>
}

/** Every group, in the order the app matches them. */
export const ROUTE_GROUPS: readonly RouteGroup[] = [
  {
    name: 'submit',
    routes: [
      ['post', '/domains/{name}/ds'],
      ['put', '/domains/{name}/ds/{keyTag}'],
      ['delete', '/domains/{name}/ds/{keyTag}'],
      ['post', '/domains/{name}/ds/sync'],
      ['post', '/instances/{instanceId}/dns-hosts/sync'],
      ['post', '/dns-batch'],
    ],
    load: async () => (await import('./submit-routes.ts')).registerSubmitRoutes,
  },
  {
    name: 'domain state',
    routes: [
      ['put', '/domains/{name}/ds'],
      ['put', '/domains/{name}/name-servers'],
      ['get', '/domains/{name}/drift'],
    ],
    load: async () => (await import('./domain-state-routes.ts')).registerDomainStateRoutes,
  },
  {
    name: 'changes',
    routes: [
      ['get', '/changes'],
      ['get', '/changes/{id}'],
    ],
    load: async () => (await import('./change-routes.ts')).registerChangeRoutes,
  },
  {
    name: 'dnssec',
    routes: [
      ['put', '/domains/{name}/dnssec'],
      ['get', '/domains/{name}/dnssec'],
      ['post', '/domains/{name}/dnssec/scan'],
    ],
    load: async () => (await import('./dnssec-routes.ts')).registerDnssecRoutes,
  },
  {
    name: 'reads',
    routes: [
      ['get', '/tasks/{id}'],
      ['get', '/tasks'],
      ['get', '/domains/{name}/ds'],
      ['get', '/domains/{name}/ds/suggested'],
    ],
    load: async () => (await import('./read-routes.ts')).registerReadRoutes,
  },
  {
    name: 'deliveries',
    routes: [
      ['get', '/tasks/{id}/deliveries'],
      ['post', '/tasks/{id}/deliveries/redeliver'],
    ],
    load: async () => (await import('./delivery-routes.ts')).registerDeliveryRoutes,
  },
  {
    name: 'events',
    routes: [
      ['get', '/events'],
      ['get', '/events/{id}'],
      ['get', '/events/{id}/deliveries'],
      ['post', '/events/{id}/redeliver'],
      ['post', '/events/recover'],
    ],
    load: async () => (await import('./event-routes.ts')).registerEventRoutes,
  },
  {
    name: 'admin keys',
    routes: [
      ['post', '/admin/keys'],
      ['get', '/admin/keys'],
      ['get', '/admin/keys/{id}/endpoints'],
      ['post', '/admin/keys/{id}/endpoints/enable'],
      ['delete', '/admin/keys/{id}'],
      ['post', '/admin/keys/{id}/webhook-secret/rotate'],
    ],
    load: async () => (await import('./admin-key-routes.ts')).registerAdminKeyRoutes,
  },
  {
    name: 'admin tenants',
    routes: [
      ['put', '/admin/tenants/{tenant}'],
      ['get', '/admin/tenants/{tenant}'],
      ['put', '/admin/domains/{name}'],
      ['get', '/admin/domains/{name}'],
      ['delete', '/admin/domains/{name}'],
    ],
    load: async () => (await import('./admin-tenant-routes.ts')).registerAdminTenantRoutes,
  },
  {
    name: 'webhook test',
    routes: [['post', '/webhooks/test']],
    load: async () => (await import('./webhook-test-routes.ts')).registerWebhookTestRoutes,
  },
]

/**
 * Binds every group's routes into the app, each group's module loaded when one of its routes is
 * first called (a cold start serves one request: it builds the schemas and specs of that route's
 * group, not of all of them). Answers a function that loads every group and puts all routes, in
 * the groups' order, in the app's OpenAPI document (once).
 */
export function bindRouteGroups(
  app: App,
  deps: ApiDeps,
  groups: readonly RouteGroup[] = ROUTE_GROUPS,
): () => Promise<void> {
  const loaders = groups.map((group) => {
    let loaded: Promise<LoadedGroup> | undefined
    const load = () => {
      loaded ??= group.load().then(
        (register) => {
          const chains = new Map<string, MiddlewareHandler<AppEnv>>()
          const descriptions: (() => DocumentedRoute)[] = []
          register(
            {
              add(method, path, chain, describe) {
                // One middleware running the chain on the request's own context (hono's compose).
                chains.set(`${method} ${path}`, every(...chain))
                descriptions.push(describe)
              },
            },
            deps,
          )
          return { chains, descriptions }
        },
        (error: unknown) => {
          loaded = undefined // a failed import is tried again by the next request
          throw error
        },
      )
      return loaded
    }
    for (const [method, path] of group.routes) {
      const key = `${method.toUpperCase()} ${honoPath(path)}`
      app.on(method.toUpperCase(), honoPath(path), async (c, next) => {
        const route = (await load()).chains.get(key)
        if (!route) throw new Error(`the ${group.name} routes do not define ${key}`)
        return route(c, next)
      })
    }
    return load
  })
  let documented: Promise<void> | undefined
  return () => {
    documented ??= Promise.all(loaders.map((load) => load())).then((all) => {
      // In the groups' order, whichever was loaded first.
      for (const { descriptions } of all)
        for (const describe of descriptions) documentRoute(app, describe)
    })
    return documented
  }
}
