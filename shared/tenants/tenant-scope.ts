/**
 * What a tenant may act on: domains (exact names, `*.suffix` for every name below a suffix, `*` for
 * every domain) and DNS-host instance ids (exact, or `*`). Assigned by the admin; a domain or
 * instance outside its tenant's scope does not exist for a key of that tenant (404).
 */
export interface TenantScope {
  readonly tenant: string
  readonly domains: readonly string[]
  readonly instances: readonly string[]
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

/**
 * Scope lookups cached in the function for `ttlMs`, a tenant without a record too: a warm API
 * instance reads a tenant's scope once per `ttlMs`, not once per request. A scope changed by
 * another instance takes effect here within `ttlMs`; this instance's own change at once (`forget`).
 */
export function cachedScopeLookup(
  read: (tenant: string) => Promise<TenantScope | undefined>,
  options: { readonly ttlMs: number; readonly now: () => number; readonly maxEntries?: number },
): { get(tenant: string): Promise<TenantScope | undefined>; forget(tenant: string): void } {
  const maxEntries = options.maxEntries ?? 1_000
  const entries = new Map<string, { scope: TenantScope | undefined; until: number }>()
  return {
    async get(tenant) {
      if (options.ttlMs <= 0) return read(tenant)
      const now = options.now()
      const cached = entries.get(tenant)
      if (cached && cached.until > now) return cached.scope
      entries.delete(tenant)
      const scope = await read(tenant)
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
      entries.set(tenant, { scope, until: now + options.ttlMs })
      return scope
    },
    forget(tenant) {
      entries.delete(tenant)
    },
  }
}
