import type { Context } from 'hono'
import { ConflictError, NotFoundError } from '#shared/errors.ts'
import { TaskIdSchema } from '#shared/ids.ts'
import { type Task, targetsOf } from '#shared/tasks/task.ts'
import {
  DomainManagedElsewhereError,
  type DomainRight,
  mayAct,
} from '#shared/tenants/domain-assignment.ts'
import { domainInScope, effectiveScope, instanceInScope } from '#shared/tenants/tenant-scope.ts'
import { DomainNameSchema } from '../schemas/common-schemas.ts'
import type { ApiDeps, AppEnv, Principal } from './context.ts'
import { parseOrThrow } from './validate.ts'

type ScopeDeps = Pick<ApiDeps, 'cachedScopes' | 'api'>

/**
 * Refuses a domain outside the caller's tenant scope with 404, the same answer as for a domain
 * the gateway knows nothing of: a key learns nothing about domains it may not act on. With
 * `submit`, also a domain assigned to another tenant and not shared with the caller's (409).
 */
export async function requireDomains(
  deps: ScopeDeps & Pick<ApiDeps, 'cachedAssignments'>,
  principal: Principal,
  domains: readonly string[],
  options: { readonly submit?: boolean } = {},
): Promise<void> {
  const scope = effectiveScope(await deps.cachedScopes.get(principal.tenant), deps.api.tenantScopes)
  if (!domains.every((domain) => domainInScope(scope, domain))) {
    throw new NotFoundError('No such domain.')
  }
  if (!options.submit) return
  const assignments = await Promise.all(domains.map((domain) => deps.cachedAssignments.get(domain)))
  for (const assignment of assignments) {
    const right = { assignment, holders: [], tenant: principal.tenant, right: 'submit' as const }
    if (!mayAct({ ...right, mode: deps.api.tenantScopes })) throw new DomainManagedElsewhereError()
  }
}

/**
 * The domain a route names in its path, once the caller may act on it: 422 for a name that is not
 * one, 404 outside the scope (and, with `submit`, 409 for another tenant's domain).
 */
export async function domainInPath(
  c: Context<AppEnv>,
  deps: ScopeDeps & Pick<ApiDeps, 'cachedAssignments'>,
  principal: Principal,
  options: { readonly submit?: boolean } = {},
): Promise<string> {
  const domain = parseOrThrow(DomainNameSchema, c.req.param('name'), 'path.name')
  await requireDomains(deps, principal, [domain], options)
  return domain
}

/** The domains and DNS-host instances a record names (a task, a change, an event). */
export interface ScopedTargets {
  readonly domains: readonly string[]
  readonly instances: readonly string[]
}

/** A change names one domain. */
export const targetsOfChange = (change: { readonly domain: string }): ScopedTargets => ({
  domains: [change.domain],
  instances: [],
})

export function targetsOfTask(task: Task): ScopedTargets {
  const targets = targetsOf(task.command)
  return task.command.action === 'dnshost.sync'
    ? { domains: [], instances: targets }
    : { domains: targets, instances: [] }
}

/**
 * Which of the caller's records it may still read: those whose domains and instances are all in
 * its tenant's scope now. A scope narrowed since hides what was done on what it no longer has,
 * as if it never had it (one scope read for a whole page).
 */
export async function stillInScope(
  deps: ScopeDeps,
  principal: Principal,
): Promise<(targets: ScopedTargets) => boolean> {
  const scope = effectiveScope(await deps.cachedScopes.get(principal.tenant), deps.api.tenantScopes)
  return (targets) =>
    targets.domains.every((domain) => domainInScope(scope, domain)) &&
    targets.instances.every((instance) => instanceInScope(scope, instance))
}

/**
 * The caller's task named by `{id}`; another tenant's, one on a domain outside the caller's scope
 * now, a missing one or an id of another shape: each a 404.
 */
export async function ownTask(
  c: Context<AppEnv>,
  deps: Pick<ApiDeps, 'tasks' | 'now'> & ScopeDeps,
  principal: Principal,
): Promise<Task> {
  const id = c.req.param('id') ?? ''
  const task = TaskIdSchema.safeParse(id).success ? await deps.tasks.get(id, deps.now()) : undefined
  if (!task || task.tenant !== principal.tenant) throw new NotFoundError('No such task.')
  if (!(await stillInScope(deps, principal))(targetsOfTask(task))) {
    throw new NotFoundError('No such task.')
  }
  return task
}

/** The same for a DNS-host instance. */
export async function requireInstance(
  deps: ScopeDeps,
  principal: Principal,
  instanceId: string,
): Promise<void> {
  const scope = effectiveScope(await deps.cachedScopes.get(principal.tenant), deps.api.tenantScopes)
  if (!instanceInScope(scope, instanceId)) throw new NotFoundError('No such instance.')
}

type AssignmentDeps = Pick<ApiDeps, 'domainAssignments' | 'cachedAssignments' | 'api' | 'now'>

/** Whether the caller may see (`see`) the domain's desired state or enrolment held by `holders`. */
export async function maySee(
  deps: AssignmentDeps,
  principal: Principal,
  domain: string,
  holders: readonly (string | undefined)[],
): Promise<boolean> {
  return mayAct({
    assignment: await deps.domainAssignments.get(domain),
    holders,
    tenant: principal.tenant,
    right: 'see' as DomainRight,
    mode: deps.api.tenantScopes,
  })
}

/** What managing a domain's desired state was granted with. */
export interface ManageGrant {
  /** The caller's tenant is the assigned manager: it takes over state another tenant holds. */
  readonly takeOver: boolean
  /** Gives back a claim this request made, when the request is refused after it. */
  readonly release: () => Promise<void>
}

/**
 * Refuses (409) unless the caller's tenant manages the domain (see `mayAct`). Under
 * `TENANT_SCOPES=open`, an unassigned domain that nobody holds is claimed for the caller's tenant
 * with `claim` (a conditional create: of two tenants at once, one wins); `release` undoes it.
 */
export async function requireManager(
  deps: AssignmentDeps,
  principal: Principal,
  domain: string,
  holders: readonly (string | undefined)[],
  options: { readonly claim: boolean },
): Promise<ManageGrant> {
  const tenant = principal.tenant
  const mode = deps.api.tenantScopes
  const assignment = await deps.domainAssignments.get(domain)
  if (!mayAct({ assignment, holders, tenant, right: 'manage', mode })) {
    if (!assignment && mode === 'strict' && holders.every((holder) => holder === undefined)) {
      throw new ConflictError(
        'No tenant has been assigned to manage this domain; an admin assigns one (PUT /admin/domains/{name}).',
      )
    }
    throw new DomainManagedElsewhereError()
  }
  const none = { takeOver: assignment !== undefined, release: async () => undefined }
  if (assignment || !options.claim) return none
  const claim = {
    domain,
    manager: tenant,
    sharedWith: [],
    assignedBy: 'first-write' as const,
    updatedAt: new Date(deps.now()).toISOString(),
  }
  if (!(await deps.domainAssignments.save(claim, undefined))) {
    const winner = await deps.domainAssignments.get(domain)
    if (winner?.manager !== tenant) throw new DomainManagedElsewhereError()
    return { takeOver: true, release: none.release }
  }
  deps.cachedAssignments.forget(domain)
  return {
    takeOver: false,
    release: async () => {
      await deps.domainAssignments.remove(domain, 1).catch(() => false)
      deps.cachedAssignments.forget(domain)
    },
  }
}

/** How a list reads one page from its store, from a position, at a time. */
export type PageRead<T> = (
  position: Record<string, unknown> | undefined,
  now: number,
) => Promise<{
  readonly items: readonly T[]
  readonly next?: Record<string, unknown> | undefined
}>

/** One of the tenant's lists as its route serves it (tasks, changes, events). */
export interface TenantList<T, R> {
  /** What its cursors are sealed to, with the tenant (and the query's variant, if any). */
  readonly name: string
  /** What decides whether an item is still in the tenant's scope. */
  readonly targetsOf: (item: T) => ScopedTargets
  readonly toResource: (item: T) => R | Promise<R>
}

/**
 * One page of one of the tenant's lists, read from the position its sealed cursor names (sealed to
 * the list, the tenant and the variant, so a cursor of another list, tenant or order is refused),
 * with what the tenant's scope no longer covers left out, its items as resources, and the next
 * page's cursor sealed the same way.
 */
export async function scopedPage<T, R>(
  deps: ScopeDeps & Pick<ApiDeps, 'cursors' | 'now'>,
  principal: Principal,
  list: TenantList<T, R>,
  query: { readonly cursor?: string | undefined; readonly variant?: string | undefined },
  read: PageRead<T>,
): Promise<{ items: R[]; nextCursor: string | undefined }> {
  const scope = [list.name, principal.tenant, ...(query.variant ? [query.variant] : [])].join(':')
  const page = await read(deps.cursors.openGiven(scope, query.cursor), deps.now())
  const nextCursor = deps.cursors.sealNext(scope, page.next)
  const visible = await stillInScope(deps, principal)
  const items = page.items.filter((item) => visible(list.targetsOf(item)))
  return { items: await Promise.all(items.map((item) => list.toResource(item))), nextCursor }
}
