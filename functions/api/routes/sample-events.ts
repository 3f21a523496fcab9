/**
 * A sample `data` for every event type, for test events (`POST /webhooks/test`): built with the
 * same functions as the real events' data (a task's resource, a change's event data, the drift
 * and DNSSEC shapes), so a receiver tested with them handles the real ones.
 */
import { changeEventData } from '#shared/changes/settle-change.ts'
import type { AnyEventType } from '#shared/events/webhook-event.ts'
import type { Task, TaskStatus } from '#shared/tasks/task.ts'
import { PING_MESSAGE } from '#shared/webhooks/ping-event.ts'
import { taskEventBody } from '#shared/webhooks/task-event.ts'

export interface SampleContext {
  readonly tenant: string
  readonly keyId: string
  readonly url: string | undefined
  readonly at: number
}

const DOMAIN = 'example.com'
const RECORD = {
  keyTag: 55648,
  algorithm: 13,
  digestType: 2,
  digest: 'b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6a37fbbfa9b',
}

function sampleTask(status: TaskStatus, context: SampleContext): Task {
  const iso = new Date(context.at).toISOString()
  const failed = status !== 'succeeded'
  return {
    id: 'tsk_sample00000000000000000',
    tenant: context.tenant,
    keyId: context.keyId,
    action: 'ds.add',
    status,
    version: 1,
    command: { action: 'ds.add', domain: DOMAIN, record: RECORD },
    upstream:
      status === 'rejected' ? {} : { taskNo: 'sample-task-no', requestId: 'sample-request' },
    details: [
      {
        target: DOMAIN,
        status: failed ? 'failed' : 'succeeded',
        error: failed ? 'A sample failure' : undefined,
      },
    ],
    error: failed ? { code: 'SampleFailure', message: 'A sample failure' } : undefined,
    callback: { url: context.url, state: 'scheduled', attempts: 0 },
    createdAt: iso,
    updatedAt: iso,
    completedAt: iso,
    pollCount: 1,
  } as Task
}

function sampleChangeData(failed: boolean, context: SampleContext) {
  const iso = new Date(context.at).toISOString()
  const step = sampleTask(failed ? 'failed' : 'succeeded', context)
  return changeEventData(
    {
      id: 'chg_sample00000000000000000',
      version: 1,
      tenant: context.tenant,
      keyId: context.keyId,
      domain: DOMAIN,
      kind: 'ds',
      status: failed ? 'failed' : 'succeeded',
      plan: { add: [RECORD], remove: [], keep: [] },
      desired: { records: [RECORD], repair: true },
      steps: [step.id],
      trigger: 'api',
      error: failed
        ? { code: 'StepFailed', message: `Step ${step.id} (ds.add) ended failed: A sample failure` }
        : undefined,
      createdAt: iso,
      updatedAt: iso,
      completedAt: iso,
    } as never,
    [step],
  )
}

const driftData = (inSync: boolean, iso: string) => ({
  domain: DOMAIN,
  inSync,
  ds: { inSync, missing: inSync ? [] : [RECORD], unexpected: [] },
  changing: [],
  checkedAt: iso,
})

/** The sample `data` of an event of `type`. */
export function sampleEventData(
  type: AnyEventType,
  context: SampleContext,
): Record<string, unknown> {
  const iso = new Date(context.at).toISOString()
  if (type.startsWith('task.')) {
    const status = type.slice('task.'.length) as TaskStatus
    return JSON.parse(taskEventBody(sampleTask(status, context))).data
  }
  if (type === 'ping') return sampleDomainData(type, context, iso)
  // A domain's events carry its event number (see event-sequence.ts).
  return { ...sampleDomainData(type, context, iso), sequence: 1 }
}

function sampleDomainData(
  type: AnyEventType,
  context: SampleContext,
  iso: string,
): Record<string, unknown> {
  switch (type) {
    case 'change.succeeded':
    case 'change.failed':
      return sampleChangeData(type === 'change.failed', context)
    case 'domain.drifted':
    case 'domain.in_sync':
      return driftData(type === 'domain.in_sync', iso)
    case 'dnssec.ds.submitted':
      return { domain: DOMAIN, changeId: 'chg_sample00000000000000000', records: [RECORD] }
    case 'dnssec.ds.published':
      return { domain: DOMAIN, records: [RECORD], parent: { records: [RECORD], ttlSeconds: 3600 } }
    case 'publication.served':
    case 'publication.late': {
      const served = type === 'publication.served'
      return {
        taskId: 'tsk_sample00000000000000000',
        action: 'ds.add',
        state: served ? 'published' : 'late',
        domains: [
          {
            domain: DOMAIN,
            expect: { kind: 'ds-present', record: RECORD },
            ...(served ? { publishedAt: iso } : {}),
          },
        ],
        since: iso,
        ...(served ? { publishedAt: iso } : {}),
        deadline: iso,
        ...(served
          ? {}
          : {
              lastCheck: {
                at: iso,
                reason: `a.gtld-servers.net does not serve DS ${RECORD.keyTag} yet`,
              },
            }),
      }
    }
    case 'dnssec.rollover.completed':
      return { domain: DOMAIN, records: [RECORD] }
    case 'dnssec.rollover.stuck':
      return {
        domain: DOMAIN,
        phase: 'waiting-for-parent',
        since: iso,
        reason: 'the parent does not serve the new DS yet',
      }
    case 'dnssec.scan.failed':
      return { domain: DOMAIN, reason: 'a server did not answer', servers: [] }
    default:
      return {
        tenant: context.tenant,
        keyId: context.keyId,
        url: context.url ?? '',
        message: PING_MESSAGE,
      }
  }
}
