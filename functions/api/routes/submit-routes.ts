import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { DnskeyError, dsForKeySigningKey } from '#shared/dns/dnskey.ts'
import { RequestValidationError } from '#shared/errors.ts'
import { keyedTaskId } from '#shared/ids.ts'
import { decide, preflightCommand } from '#shared/preflight/preflight.ts'
import type { SubmitOutcome } from '#shared/tasks/submit-deps.ts'
import { submitTask } from '#shared/tasks/submit-task.ts'
import { type Scope, TASK_ACTIONS, type TaskAction, type TaskCommand } from '#shared/tasks/task.ts'
import { toTaskResource } from '#shared/tasks/task-resource.ts'
import type { ApiDeps, AppEnv, Principal } from '../request/context.ts'
import { requireDsTld } from '../request/ds-tld.ts'
import { idempotencyKeyOf, json, requestHash, toResponse } from '../request/http.ts'
import { upstreamProblem } from '../request/problem.ts'
import { requireDomains, requireInstance } from '../request/scope-checks.ts'
import { parseOrThrow } from '../request/validate.ts'
import {
  IdempotencyKeyHeaderSchema,
  InstanceIdSchema,
  KeyTagPathSchema,
} from '../schemas/common-schemas.ts'
import {
  CallbackOnlyBodySchema,
  DnsBatchBodySchema,
  DnskeyBodySchema,
  DsBodySchema,
  DsRecordBodySchema,
  ForceQuerySchema,
} from '../schemas/submission-schemas.ts'
import { TaskResourceSchema } from '../schemas/task-schemas.ts'
import { type RouteSpec, type RouteTable, routesOf } from './route.ts'
import { answer } from './route-document.ts'

/** Seconds a client should wait before its first look at a new task. */
const RETRY_AFTER_SECONDS = '2'

const accepted = {
  202: answer(
    'Accepted: the task resource. `Location` points at it; a webhook follows when it finishes.',
    TaskResourceSchema,
    z.object({ Location: z.string(), 'Retry-After': z.string() }),
  ),
}
const SUBMISSION_PROBLEMS = [400, 409, 413, 415, 422, 429, 502, 503]
const CALLBACK_ONLY = { schema: CallbackOnlyBodySchema, required: false } as const
const ACTION_TAGS: Record<TaskAction, string> = {
  'ds.add': 'DS records',
  'ds.modify': 'DS records',
  'ds.delete': 'DS records',
  'ds.sync': 'Sync',
  'dnshost.sync': 'Sync',
  'dns.batch': 'Name servers',
}
const headers = z.object({ 'Idempotency-Key': IdempotencyKeyHeaderSchema.optional() })

function render(outcome: SubmitOutcome) {
  if (outcome.kind === 'accepted') {
    return json(202, toTaskResource(outcome.task), {
      location: `/tasks/${outcome.task.id}`,
      'retry-after': RETRY_AFTER_SECONDS,
    })
  }
  const problem = upstreamProblem(outcome.error, { taskId: outcome.task.id })
  return {
    status: problem.status,
    body: problem.body,
    headers: { 'content-type': 'application/problem+json', ...problem.headers },
  }
}

/**
 * The pre-flight check of a command, before anything is written: refused (409) when unsafe
 * unless forced; undefined for a command without a known end state. A refusal is first checked
 * against the key's task: a retry of a request already answered is answered from it (the task
 * holds the verdict it was accepted with), so the store is read only on the way to a refusal.
 */
async function checkBeforeWriting(
  deps: ApiDeps,
  principal: Principal,
  command: TaskCommand,
  key: string | undefined,
  force: boolean,
) {
  const safety = await preflightCommand(deps.preflight, command)
  if (!safety) return undefined
  deps.metrics.add('PreflightChecks', 1, {
    dimensions: { Verdict: safety.verdict, Forced: String(force) },
  })
  try {
    return decide(safety, force, deps.preflight.settings)
  } catch (error) {
    if (!key) throw error
    const existing = await deps.tasks.get(keyedTaskId(principal.tenant, key), deps.now())
    if (existing && !existing.idempotency?.freed) return undefined
    throw error
  }
}

async function submit(
  c: Context<AppEnv>,
  deps: ApiDeps,
  principal: Principal,
  command: TaskCommand,
  callbackUrl: string | undefined,
  force = false,
): Promise<Response> {
  const key = idempotencyKeyOf(c)
  // The key's stored default too: where it resolves to may have changed since it was set.
  const target = callbackUrl ?? principal.callbackUrl
  if (target) await deps.checkCallbackUrl(target)
  const safety = await checkBeforeWriting(deps, principal, command, key, force)
  // A forced request is another request than the same one unforced (its key cannot replay both).
  const hashed = force ? { command, callbackUrl, force } : { command, callbackUrl }
  const result = await submitTask(
    {
      tasks: deps.tasks,
      taskNos: deps.taskNos,
      upstream: deps.upstream,
      targetLocks: deps.targetLocks,
      now: deps.now,
      newTaskId: deps.newTaskId,
      logger: c.get('logger'),
      settings: deps.settings,
    },
    {
      tenant: principal.tenant,
      keyId: principal.keyId,
      command,
      callbackUrl: callbackUrl ?? principal.callbackUrl,
      idempotency: key ? { key, requestHash: requestHash(hashed) } : undefined,
      safety,
    },
    render,
  )
  if (!result.replayed && result.status === 202) {
    const dimensions = { Action: command.action }
    deps.metrics.add('TasksAccepted', 1, { dimensions })
    if ((result.body as { status?: string }).status === 'queued') {
      deps.metrics.add('TasksQueued', 1, { dimensions })
    }
  }
  return toResponse(result, result.replayed ? { 'idempotent-replayed': 'true' } : {})
}

/** A DS record from the body: given directly, or computed from a DNSKEY. */
function dsRecordFrom(body: unknown, domain: string, pathKeyTag: number | undefined) {
  const input = parseOrThrow(DsBodySchema, body, 'body')
  if ('dnskey' in input) {
    const parsed = parseOrThrow(DnskeyBodySchema, body, 'body')
    try {
      const record = dsForKeySigningKey(domain, parsed.dnskey, parsed.digestType)
      if (pathKeyTag !== undefined && record.keyTag !== pathKeyTag) {
        throw new RequestValidationError(
          `The DNSKEY has key tag ${record.keyTag}, not ${pathKeyTag}.`,
          [
            {
              path: 'body.dnskey',
              message: `has key tag ${record.keyTag}, the path says ${pathKeyTag}`,
            },
          ],
        )
      }
      return { record, callbackUrl: parsed.callbackUrl, force: parsed.force === true }
    } catch (error) {
      if (!(error instanceof DnskeyError)) throw error
      throw new RequestValidationError(error.message, [
        { path: 'body.dnskey', message: error.message },
      ])
    }
  }
  const parsed = parseOrThrow(DsRecordBodySchema, body, 'body')
  const keyTag = parsed.keyTag ?? pathKeyTag
  if (keyTag === undefined) {
    throw new RequestValidationError('keyTag is required.', [
      { path: 'body.keyTag', message: 'is required' },
    ])
  }
  if (pathKeyTag !== undefined && keyTag !== pathKeyTag) {
    throw new RequestValidationError('The key tag in the body differs from the path.', [
      { path: 'body.keyTag', message: `is ${keyTag}, the path says ${pathKeyTag}` },
    ])
  }
  const { algorithm, digestType, digest } = parsed
  return {
    record: { keyTag, algorithm, digestType, digest },
    callbackUrl: parsed.callbackUrl,
    force: parsed.force === true,
  }
}

export function registerSubmitRoutes(table: RouteTable, deps: ApiDeps): void {
  const route = routesOf(table, deps)
  /**
   * A submission route: a tenant key with the action's scope, an Idempotency-Key, a 202; the body
   * is only an optional callback URL unless the spec says otherwise.
   */
  const submission = <
    const S extends Omit<RouteSpec, 'access' | 'headers' | 'responses' | 'problems' | 'tags'>,
  >(
    action: TaskAction,
    spec: S,
  ) =>
    ({
      body: CALLBACK_ONLY,
      ...spec,
      tags: [ACTION_TAGS[action]],
      access: [TASK_ACTIONS[action].scope],
      headers,
      responses: accepted,
      problems: SUBMISSION_PROBLEMS,
    }) as unknown as Omit<S, 'body'> & {
      readonly body: S extends { body: infer B } ? B : typeof CALLBACK_ONLY
      readonly tags: string[]
      readonly access: Scope[]
      readonly headers: typeof headers
      readonly responses: typeof accepted
      readonly problems: typeof SUBMISSION_PROBLEMS
    }

  route(
    submission('ds.add', {
      method: 'post',
      path: '/domains/{name}/ds',
      operationId: 'addDsRecord',
      summary: 'Add a DS record (SaveSingleTaskForAddingDSRecord)',
      domain: 'submit',
      body: { schema: DsBodySchema, required: true, raw: true },
    }),
    async (c, { principal, domain, body }) => {
      requireDsTld(deps, domain)
      const { record, callbackUrl, force } = dsRecordFrom(body, domain, undefined)
      return submit(c, deps, principal, { action: 'ds.add', domain, record }, callbackUrl, force)
    },
  )

  route(
    submission('ds.modify', {
      method: 'put',
      path: '/domains/{name}/ds/{keyTag}',
      operationId: 'replaceDsRecord',
      summary: 'Replace the DS record with this key tag (SaveSingleTaskForModifyingDSRecord)',
      domain: 'submit',
      params: { keyTag: KeyTagPathSchema },
      body: { schema: DsBodySchema, required: true, raw: true },
    }),
    async (c, { principal, domain, params, body }) => {
      requireDsTld(deps, domain)
      const { record, callbackUrl, force } = dsRecordFrom(body, domain, params.keyTag)
      const command = { action: 'ds.modify', domain, record } as const
      return submit(c, deps, principal, command, callbackUrl, force)
    },
  )

  route(
    submission('ds.delete', {
      method: 'delete',
      path: '/domains/{name}/ds/{keyTag}',
      operationId: 'deleteDsRecord',
      summary: 'Delete the DS record with this key tag (SaveSingleTaskForDeletingDSRecord)',
      domain: 'submit',
      params: { keyTag: KeyTagPathSchema },
      query: ForceQuerySchema,
    }),
    async (c, { principal, domain, params, body, query }) => {
      const command = { action: 'ds.delete', domain, keyTag: params.keyTag } as const
      return submit(c, deps, principal, command, body.callbackUrl, query.force === 'true')
    },
  )

  route(
    submission('ds.sync', {
      method: 'post',
      path: '/domains/{name}/ds/sync',
      operationId: 'syncDsRecords',
      summary: 'Push the DS records to the registry again (SaveSingleTaskForSynchronizingDSRecord)',
      domain: 'submit',
    }),
    async (c, { principal, domain, body }) =>
      submit(c, deps, principal, { action: 'ds.sync', domain }, body.callbackUrl),
  )

  route(
    submission('dnshost.sync', {
      method: 'post',
      path: '/instances/{instanceId}/dns-hosts/sync',
      operationId: 'syncDnsHosts',
      summary: 'Synchronise the DNS hosts of an instance (SaveSingleTaskForSynchronizingDnsHost)',
      params: { instanceId: InstanceIdSchema },
    }),
    async (c, { principal, params: { instanceId }, body }) => {
      await requireInstance(deps, principal, instanceId)
      return submit(c, deps, principal, { action: 'dnshost.sync', instanceId }, body.callbackUrl)
    },
  )

  route(
    submission('dns.batch', {
      method: 'post',
      path: '/dns-batch',
      operationId: 'changeNameServersBatch',
      summary: 'Change the name servers of up to 100 domains (SaveBatchTaskForModifyingDomainDns)',
      body: { schema: DnsBatchBodySchema, required: true },
    }),
    async (c, { principal, body }) => {
      await requireDomains(deps, principal, body.domains, { submit: true })
      const { domains, aliyunDns, nameServers = [], callbackUrl, force } = body
      const command = { action: 'dns.batch', domains, aliyunDns, nameServers } as const
      return submit(c, deps, principal, command, callbackUrl, force === true)
    },
  )
}
