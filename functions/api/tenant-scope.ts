import { NotFoundError } from '#shared/errors.ts'
import { domainInScope, effectiveScope, instanceInScope } from '#shared/tenants/tenant-scope.ts'
import type { ApiDeps, Principal } from './context.ts'

/**
 * Refuses a domain outside the caller's tenant scope with 404, the same answer as for a domain
 * the gateway knows nothing of: a key learns nothing about domains it may not act on.
 */
export async function requireDomains(
  deps: Pick<ApiDeps, 'scopeLookup' | 'api'>,
  principal: Principal,
  domains: readonly string[],
): Promise<void> {
  const scope = effectiveScope(await deps.scopeLookup(principal.tenant), deps.api.tenantScopes)
  if (!domains.every((domain) => domainInScope(scope, domain))) {
    throw new NotFoundError('No such domain.')
  }
}

/** The same for a DNS-host instance. */
export async function requireInstance(
  deps: Pick<ApiDeps, 'scopeLookup' | 'api'>,
  principal: Principal,
  instanceId: string,
): Promise<void> {
  const scope = effectiveScope(await deps.scopeLookup(principal.tenant), deps.api.tenantScopes)
  if (!instanceInScope(scope, instanceId)) throw new NotFoundError('No such instance.')
}
