/** The admin API for keys: create, list, revoke, rotate their webhook secrets, their endpoints' health. */
import { z } from '@hono/zod-openapi'
import {
  API_KEY_ID_PATTERN,
  type ApiKey,
  activeWebhookSecrets,
  generateWebhookSecret,
} from '#shared/auth/api-keys.ts'
import { createApiKey } from '#shared/auth/create-api-key.ts'
import { NotFoundError, requireWritten } from '#shared/errors.ts'
import type { EndpointHealth } from '#shared/webhooks/endpoint-health-store.ts'
import { reenableEndpoints } from '#shared/webhooks/reenable-endpoints.ts'
import type { ApiDeps } from '../request/context.ts'
import { json, toResponse } from '../request/http.ts'
import {
  CreatedKeySchema,
  CreateKeyBodySchema,
  EndpointHealthSchema,
  KeySummarySchema,
  RotateSecretBodySchema,
} from '../schemas/admin-schemas.ts'
import { TimestampSchema } from '../schemas/common-schemas.ts'
import { type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

function summary(key: ApiKey, now: number) {
  return {
    id: key.id,
    tenant: key.tenant,
    scopes: key.scopes,
    callbackUrl: key.callbackUrl,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
    webhookSecrets: activeWebhookSecrets(key, now).length,
  }
}

function endpointSummary(health: EndpointHealth) {
  return {
    endpoint: health.endpoint,
    failures: health.failures,
    failingSince: health.failingSince,
    backoffUntil:
      health.backoffUntil === undefined ? undefined : new Date(health.backoffUntil).toISOString(),
    disabledAt: health.disabledAt,
    lastError: health.lastError,
  }
}

export function registerAdminKeyRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)
  const ids = { id: z.string().regex(API_KEY_ID_PATTERN) }
  /** The key named by `{id}`; an id of another shape names no key. */
  const keyFromPath = async (id: string | undefined) => {
    const key = id && API_KEY_ID_PATTERN.test(id) ? await deps.apiKeys.get(id) : undefined
    if (!key) throw new NotFoundError('No such API key.')
    return key
  }
  const admin = { tags: ['Admin'], access: 'admin' } as const

  route(
    {
      ...admin,
      method: 'post',
      path: '/admin/keys',
      operationId: 'createApiKey',
      summary: 'Create an API key for a tenant (key and webhook secret are shown once)',
      body: { schema: CreateKeyBodySchema, required: true },
      responses: { 201: answer('Created.', CreatedKeySchema) },
      problems: [400, 415, 422],
    },
    async (c, { body }) => {
      // A key's default callback URL passes the same check as one given with a submission.
      if (body.callbackUrl) await deps.checkCallbackUrl(body.callbackUrl)
      const created = await createApiKey(deps, { ...body, scopes: [...new Set(body.scopes)] })
      c.get('logger').info('api key created', { id: created.id, tenant: created.tenant })
      return toResponse(json(201, created, { 'cache-control': 'no-store' }))
    },
  )

  route(
    {
      ...admin,
      method: 'get',
      path: '/admin/keys',
      operationId: 'listApiKeys',
      summary: 'List API keys (never their secrets)',
      responses: {
        200: answer('Keys, newest first.', z.object({ items: z.array(KeySummarySchema) })),
      },
      problems: [],
    },
    async () => {
      const keys = await deps.apiKeys.list(1000)
      return toResponse(json(200, { items: keys.map((key) => summary(key, deps.now())) }))
    },
  )

  route(
    {
      ...admin,
      method: 'get',
      path: '/admin/keys/{id}/endpoints',
      operationId: 'listKeyEndpoints',
      summary: "The health of a key's callback endpoints: failures in a row, backoff, disabled",
      ids,
      responses: {
        200: answer(
          'Endpoints with a failure on record (an endpoint that works has none).',
          z.object({ items: z.array(EndpointHealthSchema) }),
        ),
      },
      problems: [404],
    },
    async (c) => {
      const key = await keyFromPath(c.req.param('id'))
      const items = await deps.endpoints.list(key.id)
      return toResponse(json(200, { items: items.map(endpointSummary) }))
    },
  )

  route(
    {
      ...admin,
      method: 'post',
      path: '/admin/keys/{id}/endpoints/enable',
      operationId: 'enableKeyEndpoints',
      summary:
        "Re-enable a key's callback endpoints and schedule again the callbacks they missed while disabled",
      ids,
      responses: {
        200: answer(
          'What was re-enabled and how many callbacks were scheduled again.',
          z.object({ enabled: z.array(z.string()), rescheduled: z.number() }),
        ),
      },
      problems: [404],
    },
    async (c) => {
      const key = await keyFromPath(c.req.param('id'))
      const { enabled, rescheduled } = await reenableEndpoints(deps, key)
      c.get('logger').warn('callback endpoints re-enabled', {
        event: 'callback.endpoint.enabled',
        keyId: key.id,
        endpoints: enabled,
        rescheduled,
      })
      return toResponse(json(200, { enabled, rescheduled }))
    },
  )

  route(
    {
      ...admin,
      method: 'delete',
      path: '/admin/keys/{id}',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key (its tasks still get their callbacks)',
      ids,
      responses: { 200: answer('Revoked.', KeySummarySchema) },
      problems: [404, 409],
    },
    async (c) => {
      const key = await keyFromPath(c.req.param('id'))
      if (key.revokedAt) return toResponse(json(200, summary(key, deps.now())))
      const revoked = { ...key, revokedAt: new Date(deps.now()).toISOString() }
      requireWritten(await deps.apiKeys.replace(revoked, key.version), 'The key changed; retry.')
      deps.cachedKeys.forget(key.id)
      c.get('logger').info('api key revoked', { id: key.id, tenant: key.tenant })
      return toResponse(json(200, summary(revoked, deps.now())))
    },
  )

  route(
    {
      ...admin,
      method: 'post',
      path: '/admin/keys/{id}/webhook-secret/rotate',
      operationId: 'rotateWebhookSecret',
      summary: 'Issue a new webhook secret; the old one keeps signing during the grace period',
      ids,
      body: { schema: RotateSecretBodySchema, required: false },
      responses: {
        200: answer(
          'The new secret, shown once.',
          z.object({
            id: z.string(),
            webhookSecret: z.string(),
            previousSecretExpiresAt: TimestampSchema,
          }),
        ),
      },
      problems: [404, 409, 415, 422],
    },
    async (c, { body }) => {
      const key = await keyFromPath(c.req.param('id'))
      const now = deps.now()
      const graceEnds = new Date(now + body.graceSeconds * 1000).toISOString()
      const webhookSecret = generateWebhookSecret(deps.randomBytes)
      const rotated: ApiKey = {
        ...key,
        webhookSecrets: [
          { secret: webhookSecret, createdAt: new Date(now).toISOString() },
          // Older secrets end at the earlier of their own end and this grace period's.
          ...key.webhookSecrets
            .filter((secret) => !secret.expiresAt || Date.parse(secret.expiresAt) > now)
            .map((secret) => ({
              ...secret,
              expiresAt:
                secret.expiresAt && secret.expiresAt < graceEnds ? secret.expiresAt : graceEnds,
            })),
        ],
      }
      requireWritten(await deps.apiKeys.replace(rotated, key.version), 'The key changed; retry.')
      deps.cachedKeys.forget(key.id)
      c.get('logger').info('webhook secret rotated', { id: key.id, tenant: key.tenant })
      return toResponse(
        json(
          200,
          { id: key.id, webhookSecret, previousSecretExpiresAt: graceEnds },
          { 'cache-control': 'no-store' },
        ),
      )
    },
  )
}
