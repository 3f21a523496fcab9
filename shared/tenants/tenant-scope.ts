import type { RateLimits } from './rate-limit.ts'

/**
 * What a tenant may act on: domains (exact names, `*.suffix` for every name below a suffix, `*` for
 * every domain) and DNS-host instance ids (exact, or `*`). Assigned by the admin; a domain or
 * instance outside its tenant's scope does not exist for a key of that tenant (404).
 */
export interface TenantScope {
  readonly tenant: string
  readonly domains: readonly string[]
  readonly instances: readonly string[]
  /** The tenant's own requests per minute, by kind (unset: the gateway's `RATE_LIMIT_*`). */
  readonly limits?: Partial<RateLimits> | undefined
  readonly updatedAt: string
  /** Optimistic-lock counter of the record. */
  readonly version: number
}

/** How a tenant without a scope record is treated (`TENANT_SCOPES`). */
export type TenantScopeMode = 'open' | 'strict'

/** Every domain and instance: a tenant without a record in `open` mode, or one given `*`. */
export const EVERYTHING: Pick<TenantScope, 'domains' | 'instances'> = {
  domains: ['*'],
  instances: ['*'],
}

/** Whether a (normalized, lower-case) domain name is in the scope. */
export function domainInScope(scope: Pick<TenantScope, 'domains'>, domain: string): boolean {
  return scope.domains.some((pattern) => {
    if (pattern === '*') return true
    if (pattern.startsWith('*.')) return domain.endsWith(pattern.slice(1))
    return pattern === domain
  })
}

export function instanceInScope(
  scope: Pick<TenantScope, 'instances'>,
  instanceId: string,
): boolean {
  return scope.instances.some((pattern) => pattern === '*' || pattern === instanceId)
}

/** The scope a tenant acts with: its record, or — without one — everything (`open`) or nothing. */
export function effectiveScope(
  record: Pick<TenantScope, 'domains' | 'instances'> | undefined,
  mode: TenantScopeMode,
): Pick<TenantScope, 'domains' | 'instances'> {
  if (record) return record
  return mode === 'open' ? EVERYTHING : { domains: [], instances: [] }
}

/** Reads and writes tenants' scopes. */
export interface TenantScopeStore {
  get(tenant: string): Promise<TenantScope | undefined>
  /** Writes if still at `expectedVersion` (undefined: not yet written). */
  save(next: Omit<TenantScope, 'version'>, expectedVersion: number | undefined): Promise<boolean>
}
