import type { DsRecord } from '../dns/dnskey.ts'
import { delegatedTo } from '../dns/name-servers.ts'
import type { DueItem } from '../ports/due-item-store.ts'
import type { Task } from '../tasks/task.ts'

/**
 * Done means published: a registry task that succeeded is followed until the parent zone's servers
 * serve what it changed — the DS record it added (or no longer the one it removed), or the name
 * servers it delegated to — or until a bound passes. Pure: what to expect of a task, whether a
 * parent's answers show it, and when to look again.
 */

/** What the parent should serve for one domain once the change is published. */
export type Expectation =
  | { readonly kind: 'ds-present'; readonly record: DsRecord }
  | { readonly kind: 'ds-absent'; readonly keyTag: number }
  | { readonly kind: 'delegation'; readonly nameServers: readonly string[] }

export interface DomainWatch {
  readonly domain: string
  readonly expect: Expectation
  /** When every parent server was first seen serving it. */
  readonly publishedAt?: string | undefined
}

/** `void`: the task did not end succeeded after all (its final save never landed): nothing to follow. */
export type PublicationState = 'following' | 'published' | 'late' | 'void'

/** A succeeded task being followed at the parent (id `pub_` + the task's). */
export interface PublicationWatch extends DueItem {
  readonly tenant: string
  readonly keyId: string
  readonly taskId: string
  readonly changeId?: string | undefined
  readonly callbackUrl?: string | undefined
  readonly state: PublicationState
  readonly domains: readonly DomainWatch[]
  /** When the registry task succeeded (ISO). */
  readonly since: string
  /** Epoch ms: past this without the parent serving it, the change is late. */
  readonly deadline: number
  readonly checks: number
  readonly lastCheck?: { readonly at: string; readonly reason: string } | undefined
  readonly publishedAt?: string | undefined
  readonly createdAt: string
  readonly updatedAt: string
}

export interface PublicationSettings {
  /** How long after the registry task the parent may take; past it `task.not_published`. */
  readonly timeoutMs: number
  /** The waits between looks at the parent, the last repeated. */
  readonly checkDelaysMs: readonly number[]
  /** The name servers of Alibaba Cloud DNS (a move to it, `aliyunDns: true`). */
  readonly alibabaDnsServers: readonly string[]
}

export const watchIdOf = (taskId: string) => `pub_${taskId.replace(/^tsk_/, '')}`

const canonical = (name: string) => name.toLowerCase().replace(/\.$/, '')

/** What a finished task leaves the parent to publish, per domain it changed; none: nothing. */
export function expectationsOf(
  task: Task,
  settings: Pick<PublicationSettings, 'alibabaDnsServers'>,
): DomainWatch[] {
  const command = task.command
  switch (command.action) {
    case 'ds.add':
    case 'ds.modify':
      return [{ domain: command.domain, expect: { kind: 'ds-present', record: command.record } }]
    case 'ds.delete':
      return [{ domain: command.domain, expect: { kind: 'ds-absent', keyTag: command.keyTag } }]
    case 'dns.batch': {
      const nameServers = delegatedTo(command, settings.alibabaDnsServers)
      const changed = new Set(
        task.details.filter((detail) => detail.status === 'succeeded').map((d) => d.target),
      )
      return command.domains
        .filter((domain) => changed.has(domain))
        .map((domain) => ({ domain, expect: { kind: 'delegation', nameServers } }))
    }
    default:
      return []
  }
}

/** A new watch for a task that has just succeeded (or partly), or undefined when nothing changed. */
export function newWatch(
  task: Task,
  settings: PublicationSettings,
  at: number,
): PublicationWatch | undefined {
  const domains = expectationsOf(task, settings)
  if (domains.length === 0) return undefined
  const iso = new Date(at).toISOString()
  return {
    id: watchIdOf(task.id),
    version: 1,
    tenant: task.tenant,
    keyId: task.keyId,
    taskId: task.id,
    changeId: task.changeId,
    callbackUrl: task.callback.url,
    state: 'following',
    domains,
    since: iso,
    deadline: at + settings.timeoutMs,
    checks: 0,
    createdAt: iso,
    updatedAt: iso,
    dueAt: at + (settings.checkDelaysMs[0] ?? 0),
  }
}

/** What the parent's servers serve for one domain: each server's DS set and delegation. */
export interface ParentAnswer {
  readonly server: string
  readonly ds?: readonly DsRecord[] | undefined
  readonly nameServers?: readonly string[] | undefined
  readonly error?: string | undefined
}

/** Whether every parent server serves the expectation; why not, if not. */
export function servedBy(
  expect: Expectation,
  answers: readonly ParentAnswer[],
): { served: true } | { served: false; reason: string } {
  if (answers.length === 0) return { served: false, reason: 'no parent server could be found' }
  for (const answer of answers) {
    if (answer.error) return { served: false, reason: `${answer.server}: ${answer.error}` }
    if (expect.kind === 'delegation') {
      const served = [...(answer.nameServers ?? [])].map(canonical).sort()
      const wanted = [...expect.nameServers].sort()
      if (served.join(',') !== wanted.join(',')) {
        return {
          served: false,
          reason: `${answer.server} delegates to ${served.join(', ') || 'nothing'}, not ${wanted.join(', ')}`,
        }
      }
      continue
    }
    const records = answer.ds ?? []
    if (expect.kind === 'ds-present') {
      const want = expect.record
      const found = records.some(
        (ds) =>
          ds.keyTag === want.keyTag &&
          ds.algorithm === want.algorithm &&
          ds.digestType === want.digestType &&
          ds.digest.toLowerCase() === want.digest.toLowerCase(),
      )
      if (!found)
        return { served: false, reason: `${answer.server} does not serve DS ${want.keyTag} yet` }
    } else if (records.some((ds) => ds.keyTag === expect.keyTag)) {
      return { served: false, reason: `${answer.server} still serves DS ${expect.keyTag}` }
    }
  }
  return { served: true }
}

/** When to look again after `checks` looks. */
export const nextCheckAt = (settings: PublicationSettings, checks: number, now: number) =>
  now + (settings.checkDelaysMs[Math.min(checks, settings.checkDelaysMs.length - 1)] ?? 60_000)
