import { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { methodNotAllowed } from 'hono/method-not-allowed'
import { requestId } from 'hono/request-id'
import { rateLimitHeaders } from '#shared/tenants/rate-limit.ts'
import { DOCS_SCRIPT_PATH, docsPage, docsScript } from './docs-page.ts'
import type { OpenApiDocument } from './openapi-document.ts'
import type { ApiDeps, App, AppEnv } from './request/context.ts'
import { problem, problemFor, problemToResponse } from './request/problem.ts'
import { bindRouteGroups } from './routes/route-groups.ts'

/** Builds the gateway's HTTP API. All collaborators come in through `deps`. */
export function createApp(deps: ApiDeps): App {
  const app = new OpenAPIHono<AppEnv>()

  // The caller's `X-Request-Id` when it is 1–128 of `A-Za-z0-9_=-`, a fresh UUID otherwise.
  app.use('*', requestId({ limitLength: 128 }))
  app.use('*', async (c, next) => {
    const id = c.get('requestId')
    const logger = deps.logger.child({ requestId: id })
    c.set('logger', logger)
    const started = performance.now()
    await next()
    // (Also on answers built as a whole `Response`, which do not carry headers set on `c`.)
    c.res.headers.set('x-request-id', id)
    const rate = c.get('rateLimit')
    if (rate) {
      for (const [name, value] of Object.entries(rateLimitHeaders(rate)))
        c.res.headers.set(name, value)
    }
    logger.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    })
    deps.metrics.flush()
  })

  app.use(
    '*',
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        const allow = methods.join(', ')
        return problemToResponse(
          problem('method-not-allowed', 405, `Use ${allow} on this path.`, {}, { allow }),
          c.req.path,
        )
      },
    }),
  )

  app.use(
    '*',
    bodyLimit({
      maxSize: deps.api.maxBodyBytes,
      onError: (c) => {
        const response = problemToResponse(
          problem(
            'payload-too-large',
            413,
            `Bodies are limited to ${deps.api.maxBodyBytes} bytes.`,
          ),
          c.req.path,
        )
        // The rest of the body is not read: the connection cannot carry another request, so
        // say so rather than let the client reuse a socket the server is about to close.
        response.headers.set('connection', 'close')
        return response
      },
    }),
  )

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  const loadAllRoutes = bindRouteGroups(app, deps)

  let document: Promise<OpenApiDocument> | undefined
  app.get('/openapi.json', async (c) => {
    // Built at the first request, not at cold start (the module and its schemas load then).
    document ??= import('./openapi-document.ts')
      .then(({ openApiDocument }) => openApiDocument(app, loadAllRoutes))
      .catch((error: unknown) => {
        document = undefined
        throw error
      })
    return c.json(await document)
  })
  app.get('/docs', (c) => c.html(docsPage()))
  app.get(DOCS_SCRIPT_PATH, async (c) => {
    const script = await docsScript()
    const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')
    return c.body(gzip ? script.gzip : script.plain, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=86400',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    })
  })

  app.notFound((c) => problemToResponse(problem('not-found', 404, 'No such route.'), c.req.path))

  app.onError((error, c) => {
    const answer = problemFor(error)
    const logger = c.get('logger') ?? deps.logger
    if (answer.status >= 500) {
      logger.error('request failed', {
        error,
        stack: error instanceof Error ? error.stack : undefined,
      })
    }
    return problemToResponse(answer, c.req.path)
  })

  return app
}
