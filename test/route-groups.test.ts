import { OpenAPIHono } from '@hono/zod-openapi'
import { describe, expect, it } from 'vitest'
import type { ApiDeps, AppEnv } from '#functions/api/request/context.ts'
import { honoPath } from '#functions/api/routes/route.ts'
import {
  bindRouteGroups,
  ROUTE_GROUPS,
  type RouteGroup,
} from '#functions/api/routes/route-groups.ts'

/** What a group's module defines, in its order, as its manifest spells routes. */
async function defined(group: RouteGroup): Promise<[string, string][]> {
  const routes: [string, string][] = []
  const register = await group.load()
  register(
    {
      add: (method, _path, _chain, describe) =>
        routes.push([method.toLowerCase(), describe().path]),
    },
    {} as ApiDeps,
  )
  return routes
}

describe('route groups', () => {
  it.each(ROUTE_GROUPS.map((group) => [group.name, group] as const))(
    'the %s manifest lists exactly the routes its module defines, in order',
    async (_name, group) => {
      expect(await defined(group)).toEqual(group.routes.map(([method, path]) => [method, path]))
    },
  )

  it('no method and path is claimed by two groups', () => {
    const all = ROUTE_GROUPS.flatMap((group) =>
      group.routes.map(([method, path]) => `${method} ${honoPath(path)}`),
    )
    expect(new Set(all).size).toBe(all.length)
  })

  it("loads a group's module on the first call of one of its routes, once, and every group for the document", async () => {
    const loads: string[] = []
    const groups: RouteGroup[] = [
      {
        name: 'one',
        routes: [['get', '/one/{id}']],
        load: async () => {
          loads.push('one')
          return (table) =>
            table.add(
              'GET',
              '/one/:id',
              [
                async (c, next) => {
                  c.header('x-checked', 'yes')
                  await next()
                },
                async (c) => c.json({ id: c.req.param('id') }),
              ],
              () => ({
                method: 'get',
                path: '/one/{id}',
                operationId: 'one',
                tags: [],
                responses: {},
              }),
            )
        },
      },
      {
        name: 'two',
        routes: [['post', '/two']],
        load: async () => {
          loads.push('two')
          return (table) =>
            table.add('POST', '/two', [async (c) => c.json({ two: true }, 201)], () => ({
              method: 'post',
              path: '/two',
              operationId: 'two',
              tags: [],
              responses: {},
            }))
        },
      },
    ]
    const app = new OpenAPIHono<AppEnv>()
    const loadAll = bindRouteGroups(app, {} as ApiDeps, groups)
    expect(loads).toEqual([])

    const [first, second] = await Promise.all([app.request('/one/a'), app.request('/one/b')])
    expect(await first?.json()).toEqual({ id: 'a' })
    expect(await second?.json()).toEqual({ id: 'b' })
    expect(first?.headers.get('x-checked')).toBe('yes')
    expect(loads).toEqual(['one'])

    await loadAll()
    await loadAll()
    expect(loads).toEqual(['one', 'two'])
    const posted = await app.request('/two', { method: 'POST' })
    expect(posted.status).toBe(201)
    expect(loads).toEqual(['one', 'two'])
  })

  it('a group whose module fails to load answers the error and is loaded again by the next call', async () => {
    let attempts = 0
    const app = new OpenAPIHono<AppEnv>()
    app.onError((error, c) => c.text(String((error as Error).message), 500))
    bindRouteGroups(app, {} as ApiDeps, [
      {
        name: 'flaky',
        routes: [['get', '/flaky']],
        load: async () => {
          attempts += 1
          if (attempts === 1) throw new Error('import failed')
          return (table) =>
            table.add('GET', '/flaky', [async (c) => c.text('ok')], () => ({
              method: 'get',
              path: '/flaky',
              operationId: 'flaky',
              tags: [],
              responses: {},
            }))
        },
      },
    ])
    const failed = await app.request('/flaky')
    expect(failed.status).toBe(500)
    expect(await failed.text()).toBe('import failed')
    const served = await app.request('/flaky')
    expect(await served.text()).toBe('ok')
    expect(attempts).toBe(2)
  })
})
