import { ConflictError } from '../errors.ts'
import type { TenantScopeMode } from './tenant-scope.ts'

/**
 * Who manages a domain: the one tenant whose keys may set its desired state and its DNSSEC
 * automation, and the tenants the admin shares it with, whose keys may also submit changes to it
 * (add or remove a DS record, change its name servers) and read its desired state. Every other
 * tenant's write to the domain is refused.
 */
export interface DomainAssignment {
  readonly domain: string
  readonly manager: string
  readonly sharedWith: readonly string[]
  /** `admin`: set through the admin API; `first-write`: claimed by the first desired-state write (TENANT_SCOPES=open only). */
  readonly assignedBy: 'admin' | 'first-write'
  readonly updatedAt: string
  readonly version: number
}

/** What a tenant does to a domain, from reading it to managing it. */
export type DomainRight = 'see' | 'submit' | 'manage'

/**
 * Whether `tenant` may act on `domain` this way (its scope already admits the domain). With an
 * assignment: the manager may do anything, a tenant it is shared with may submit and see, nobody
 * else anything. Without one: anybody may submit (the scope is the boundary); managing — and seeing
 * the desired state — belongs to the tenant that holds it (the tenant of the domain's desired
 * state or DNSSEC enrolment, written before assignments existed), and under `strict` to nobody
 * until the admin assigns it.
 */
export function mayAct(input: {
  readonly assignment: Pick<DomainAssignment, 'manager' | 'sharedWith'> | undefined
  /** Tenants holding the domain's desired state or enrolment (undefined: none). */
  readonly holders: readonly (string | undefined)[]
  readonly tenant: string
  readonly right: DomainRight
  readonly mode: TenantScopeMode
}): boolean {
  const { assignment, tenant, right } = input
  if (assignment) {
    if (assignment.manager === tenant) return true
    return right !== 'manage' && assignment.sharedWith.includes(tenant)
  }
  if (right === 'submit') return true
  const held = input.holders.filter((holder): holder is string => holder !== undefined)
  if (held.some((holder) => holder !== tenant)) return false
  if (right === 'see') return held.length > 0
  return input.mode === 'open'
}

/** Reads and writes domains' assignments (one versioned item per domain). */
export interface DomainAssignmentStore {
  get(domain: string): Promise<DomainAssignment | undefined>
  /** Writes if still at `expectedVersion` (undefined: not yet written). */
  save(
    next: Omit<DomainAssignment, 'version'>,
    expectedVersion: number | undefined,
  ): Promise<boolean>
  remove(domain: string, expectedVersion: number): Promise<boolean>
  list(
    limit: number,
    start: Record<string, unknown> | undefined,
  ): Promise<{ items: DomainAssignment[]; next?: Record<string, unknown> | undefined }>
}

/** The domain is managed by another tenant: its desired state and its DS records are not the caller's to change. */
export class DomainManagedElsewhereError extends ConflictError {
  override name = 'DomainManagedElsewhereError'
  constructor() {
    super('This domain is managed by another tenant of the gateway.')
  }
}
