import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context } from 'hono'
import { apiKeyId, apiKeyMatches } from '#shared/auth/api-keys.ts'
import { AuthenticationError, PermissionError, RateLimitedError } from '#shared/errors.ts'
import type { Scope } from '#shared/tasks/task.ts'
import { type RateKind, rateLimitHeaders } from '#shared/tenants/rate-limit.ts'
import type { ApiDeps, AppEnv, Principal } from './context.ts'

/** A hash no key has: what a token with an unknown key id is compared with. */
const DUMMY_KEY_HASH = createHash('sha256').update('no key has this hash').digest('hex')

function bearerToken(c: Context<AppEnv>): string {
  const header = c.req.header('authorization')
  const match = header ? /^Bearer +(\S+)\s*$/i.exec(header) : null
  if (!match) throw new AuthenticationError('Send the API key as `Authorization: Bearer <key>`.')
  return match[1] as string
}

/**
 * Spends one of the tenant's requests of this route's kind (its record's limit, else the
 * gateway's); refuses with 429 when the minute's are spent. The decision's headers go out with the
 * answer (see app.ts).
 */
async function spendRate(
  c: Context<AppEnv>,
  deps: ApiDeps,
  tenant: string,
  kind: RateKind,
): Promise<void> {
  const own = (await deps.cachedScopes.get(tenant))?.limits?.[kind]
  const decision = await deps.rateLimiter.take(tenant, kind, own ?? deps.api.rateLimits[kind])
  if (!decision) return
  c.set('rateLimit', decision)
  if (!decision.allowed) {
    throw new RateLimitedError(decision.resetSeconds, rateLimitHeaders(decision))
  }
}

/** Resolves the caller's API key; every failure looks the same from outside. */
export async function authenticate(
  c: Context<AppEnv>,
  deps: ApiDeps,
  /** What the route's call spends of the tenant's rate limits (its spec says). */
  kind: RateKind,
): Promise<Principal> {
  const token = bearerToken(c)
  const id = apiKeyId(token)
  const key = id ? await deps.cachedKeys.get(id) : undefined
  // The same work whether the key exists or not: an unknown id is verified against a dummy hash.
  const matches = apiKeyMatches(token, key?.keyHash ?? DUMMY_KEY_HASH)
  if (!key || key.revokedAt || !matches) {
    if (isAdminKey(token, deps)) {
      throw new AuthenticationError(
        "That is the admin key: it manages tenants and keys under /admin. Tenant routes take a tenant's API key (POST /admin/keys makes one).",
      )
    }
    throw new AuthenticationError('The API key is not valid.')
  }
  c.set('logger', c.get('logger').child({ tenant: key.tenant, keyId: key.id }))
  // Once per request, however many times a route authenticates.
  if (!c.get('rateLimit')) await spendRate(c, deps, key.tenant, kind)
  return {
    keyId: key.id,
    tenant: key.tenant,
    scopes: new Set(key.scopes),
    callbackUrl: key.callbackUrl,
  }
}

export async function requireScope(
  c: Context<AppEnv>,
  deps: ApiDeps,
  kind: RateKind,
  ...anyOf: Scope[]
): Promise<Principal> {
  return requireScopeOf(await authenticate(c, deps, kind), ...anyOf)
}

/** The principal, if its key has one of the scopes (403 otherwise). */
export function requireScopeOf(principal: Principal, ...anyOf: Scope[]): Principal {
  if (!anyOf.some((scope) => principal.scopes.has(scope))) {
    throw new PermissionError(`This route needs the scope ${anyOf.join(' or ')}.`)
  }
  return principal
}

const digest = (value: string) => createHash('sha256').update(value).digest()

/** The gateway's admin key? Digests are compared, so the time does not depend on the lengths. */
function isAdminKey(token: string, deps: ApiDeps): boolean {
  const configured = deps.api.adminApiKey
  return configured !== undefined && timingSafeEqual(digest(token), digest(configured))
}

export function requireAdmin(c: Context<AppEnv>, deps: ApiDeps): void {
  const token = bearerToken(c)
  if (!isAdminKey(token, deps)) {
    // The key's form says whether it is meant for tenant routes; nothing about whether it exists.
    throw new AuthenticationError(
      apiKeyId(token)
        ? "That is a tenant's API key; /admin routes take the gateway's admin key (ADMIN_API_KEY)."
        : 'The admin key is not valid.',
    )
  }
}
