import type { Change } from '../changes/change.ts'
import type { DnsAnswer, DnsServer } from '../dns/dns-client.ts'
import { canonicalName, dsOf } from '../dns/dnssec-records.ts'
import { toEpochSeconds } from '../epoch.ts'
import type { EventSequence } from '../events/event-sequence.ts'
import { type EventType, newEvent, type WebhookEvent } from '../events/webhook-event.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { DueItemStore } from '../ports/due-item-store.ts'
import type { Task } from '../tasks/task.ts'
import type { TaskStore } from '../tasks/task-store.ts'
import {
  type DomainWatch,
  newWatch,
  nextCheckAt,
  type ParentAnswer,
  type PublicationSettings,
  type PublicationWatch,
  servedBy,
} from './publication.ts'

/**
 * Following a succeeded task at the parent (see publication.ts): each look asks every server of
 * the parent zone for the child's DS set or delegation; when all serve the change the task (and,
 * once all its steps are, the change) gets `publishedAt` and a `publication.served` event goes
 * out; past the bound, `publication.late` and the `ChangesNotPublished` metric. Every write is
 * conditional; the events' ids are the task's, so a retried look writes each once.
 */

export interface PublicationDeps {
  readonly watches: DueItemStore<PublicationWatch>
  readonly tasks: Pick<TaskStore, 'get' | 'replace'>
  readonly changes: DueItemStore<Change>
  readonly events: DueItemStore<WebhookEvent>
  readonly eventSequence: EventSequence
  /** The servers of a zone (the parent's): overrides, or its NS set under the address policy. */
  readonly serversFor: (zone: string) => Promise<readonly DnsServer[]>
  readonly query: (server: DnsServer, name: string, type: 'DS' | 'NS') => Promise<DnsAnswer>
  readonly now: () => number
  readonly logger: Logger
  readonly metrics?: Metrics | undefined
  readonly settings: PublicationSettings & { readonly retentionMs: number }
}

/**
 * Starts following a task that is about to be saved as succeeded (or partly): written before the
 * task's final state, so a process that stops in between leaves the watch, which waits for the
 * task to be final. A second call writes nothing.
 */
export async function startFollowing(deps: PublicationDeps, finalTask: Task): Promise<void> {
  const watch = newWatch(finalTask, deps.settings, deps.now())
  if (watch) await deps.watches.create(watch)
}

const parentOf = (domain: string) => domain.split('.').slice(1).join('.')

/** What each server of the parent zone serves for the child now. */
async function askParent(
  deps: PublicationDeps,
  watch: DomainWatch,
): Promise<readonly ParentAnswer[]> {
  let servers: readonly DnsServer[]
  try {
    servers = await deps.serversFor(parentOf(watch.domain))
  } catch (error) {
    return [{ server: parentOf(watch.domain), error: (error as Error).message }]
  }
  const type = watch.expect.kind === 'delegation' ? 'NS' : 'DS'
  return Promise.all(
    servers.map(async (server): Promise<ParentAnswer> => {
      const label = `${server.host}:${server.port}`
      try {
        const answer = await deps.query(server, watch.domain, type)
        if (type === 'DS') return { server: label, ds: answer.records.map(dsOf) }
        const nameServers =
          answer.referral?.zone === canonicalName(watch.domain)
            ? answer.referral.nameServers
            : answer.records.map((record) => canonicalName((record as { data: string }).data))
        return { server: label, nameServers }
      } catch (error) {
        return { server: label, error: (error as Error).message }
      }
    }),
  )
}

/** A due watch: claimed with a lease, the parent asked, the watch moved on. */
export async function processDueWatch(
  deps: PublicationDeps,
  id: string,
  lease: { readonly owner: string; readonly ms: number },
): Promise<'skipped' | 'lost' | 'waiting' | 'completed'> {
  const now = deps.now()
  // Claimed and read in one request (only a following watch is due).
  const held = await deps.watches.claim(id, { owner: lease.owner, until: now + lease.ms }, now)
  if (held?.state !== 'following') return 'skipped'
  const task = await deps.tasks.get(held.taskId, now)
  if (!task || !['succeeded', 'partially_failed'].includes(task.status)) {
    // The task's final save has not landed (or never will): wait for it until the bound.
    const gone = !task || task.completedAt !== undefined || now > held.deadline
    return settle(
      deps,
      held,
      gone ? { state: 'void' } : { state: 'following', reason: 'the task is not final yet' },
    )
  }
  const domains: DomainWatch[] = []
  let waitingFor: string | undefined
  for (const domain of held.domains) {
    if (domain.publishedAt) {
      domains.push(domain)
      continue
    }
    const verdict = servedBy(domain.expect, await askParent(deps, domain))
    if (verdict.served) domains.push({ ...domain, publishedAt: new Date(deps.now()).toISOString() })
    else {
      domains.push(domain)
      waitingFor ??= `${domain.domain}: ${verdict.reason}`
    }
  }
  const looked = { ...held, domains }
  if (waitingFor === undefined) return settle(deps, looked, { state: 'published' }, task)
  if (deps.now() > held.deadline)
    return settle(deps, looked, { state: 'late', reason: waitingFor }, task)
  return settle(deps, looked, { state: 'following', reason: waitingFor })
}

type Outcome =
  | { readonly state: 'following'; readonly reason: string }
  | { readonly state: 'published' }
  | { readonly state: 'late'; readonly reason: string }
  | { readonly state: 'void' }

async function settle(
  deps: PublicationDeps,
  held: PublicationWatch,
  outcome: Outcome,
  task?: Task,
): Promise<'waiting' | 'completed' | 'lost'> {
  const at = deps.now()
  const iso = new Date(at).toISOString()
  const lastCheck = 'reason' in outcome ? { at: iso, reason: outcome.reason } : held.lastCheck
  if (outcome.state === 'following') {
    const next = {
      ...held,
      checks: held.checks + 1,
      lastCheck,
      updatedAt: iso,
      lease: undefined,
      dueAt: Math.min(nextCheckAt(deps.settings, held.checks + 1, at), held.deadline + 1),
    }
    return (await deps.watches.replace(next, held.version)) ? 'waiting' : 'lost'
  }
  const publishedAt =
    outcome.state === 'published'
      ? held.domains
          .map((domain) => domain.publishedAt as string)
          .sort()
          .at(-1)
      : undefined
  const final: PublicationWatch = {
    ...held,
    state: outcome.state,
    checks: held.checks + 1,
    lastCheck,
    publishedAt,
    updatedAt: iso,
    lease: undefined,
    dueAt: undefined,
    expiresAt: toEpochSeconds(at + deps.settings.retentionMs),
  }
  if (task && outcome.state !== 'void') {
    // The event first (its id is the watch's), then the task and change, then the watch.
    await emit(
      deps,
      final,
      outcome.state === 'published' ? 'publication.served' : 'publication.late',
      task,
      at,
    )
    if (publishedAt) {
      await markTask(deps, task.id, publishedAt)
      if (task.changeId) await markChange(deps, task.changeId, at)
    } else {
      deps.metrics?.add('ChangesNotPublished', 1, { dimensions: { Action: task.action } })
      deps.logger.warn('the parent did not serve a change within the bound', {
        taskId: task.id,
        reason: lastCheck?.reason,
      })
    }
  }
  return (await deps.watches.replace(final, held.version)) ? 'completed' : 'lost'
}

/** The data of a publication event: the task, what was expected of the parent, and when. */
export function publicationEventData(watch: PublicationWatch, task: Pick<Task, 'action'>) {
  return {
    taskId: watch.taskId,
    changeId: watch.changeId,
    action: task.action,
    state: watch.state,
    domains: watch.domains,
    since: watch.since,
    publishedAt: watch.publishedAt,
    deadline: new Date(watch.deadline).toISOString(),
    lastCheck: watch.lastCheck,
  }
}

async function emit(
  deps: PublicationDeps,
  watch: PublicationWatch,
  type: EventType,
  task: Task,
  at: number,
): Promise<void> {
  const domain = watch.domains[0]?.domain
  await deps.events.create(
    newEvent({
      id: `evt_${watch.id}`,
      tenant: watch.tenant,
      keyId: watch.keyId,
      type,
      data: publicationEventData(watch, task),
      url: watch.callbackUrl,
      at,
      retentionMs: deps.settings.retentionMs,
      sequence: domain ? await deps.eventSequence.next(domain) : undefined,
    }),
  )
}

async function markTask(deps: PublicationDeps, taskId: string, publishedAt: string) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const task = await deps.tasks.get(taskId, deps.now())
    if (!task || task.publishedAt) return
    if (await deps.tasks.replace({ ...task, publishedAt }, task.version)) return
  }
  deps.logger.warn('could not record publishedAt on a task', { taskId })
}

/** The change is published once every step that changed something is. */
async function markChange(deps: PublicationDeps, changeId: string, at: number) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const change = await deps.changes.get(changeId, at)
    if (!change || change.publishedAt) return
    const steps = await Promise.all(change.steps.map((id) => deps.tasks.get(id, at)))
    const open = steps.some(
      (step) =>
        !step ||
        (step.status !== 'succeeded' && step.status !== 'partially_failed') ||
        (step.publishedAt === undefined &&
          ['ds.add', 'ds.modify', 'ds.delete', 'dns.batch'].includes(step.action)),
    )
    if (open) return
    const publishedAt = steps
      .map((step) => step?.publishedAt)
      .filter((value): value is string => value !== undefined)
      .sort()
      .at(-1)
    if (await deps.changes.replace({ ...change, publishedAt }, change.version)) return
  }
  deps.logger.warn('could not record publishedAt on a change', { changeId })
}
