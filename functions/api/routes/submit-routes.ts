import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { DnskeyError, dsFromDnskey, parseDnskey } from '#shared/dnssec.ts'
import { RequestValidationError } from '#shared/errors.ts'
import type { SubmitOutcome } from '#shared/tasks/submit-deps.ts'
import { submitTask } from '#shared/tasks/submit-task.ts'
import { TASK_ACTIONS, type TaskAction, type TaskCommand } from '#shared/tasks/task.ts'
import { toTaskResource } from '#shared/tasks/task-resource.ts'
import { requireScope } from '../auth.ts'
import type { ApiDeps, App, AppEnv, Principal } from '../context.ts'
import { requireDsTld } from '../ds-tld.ts'
import { idempotencyKeyOf, json, jsonBody, readJsonBody, requestHash, toResponse } from '../http.ts'
import { upstreamProblem } from '../problem.ts'
import {
  DomainNameSchema,
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
} from '../schemas/submission-schemas.ts'
import { TaskResourceSchema } from '../schemas/task-schemas.ts'
import { domainInPath, requireDomains, requireInstance } from '../tenant-scope.ts'
import { parseOrThrow } from '../validate.ts'
import { defineRoute, problemResponses } from './define.ts'

/** Seconds a client should wait before its first look at a new task. */
const RETRY_AFTER_SECONDS = '2'

const accepted = {
  202: {
    description:
      'Accepted: the task resource. `Location` points at it; a webhook follows when it finishes.',
    headers: z.object({ Location: z.string(), 'Retry-After': z.string() }),
    content: { 'application/json': { schema: TaskResourceSchema } },
  },
  ...problemResponses(400, 401, 403, 409, 413, 415, 422, 429, 502, 503),
}
const headers = z.object({ 'Idempotency-Key': IdempotencyKeyHeaderSchema.optional() })
const bodySpec = (schema: z.ZodType, required: boolean) => ({
  required,
  content: { 'application/json': { schema } },
})

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

/** Authenticates first, so an unauthenticated caller learns nothing from validation answers. */
const authorize = (c: Context<AppEnv>, deps: ApiDeps, action: TaskAction) =>
  requireScope(c, deps, TASK_ACTIONS[action].scope)

async function submit(
  c: Context<AppEnv>,
  deps: ApiDeps,
  principal: Principal,
  command: TaskCommand,
  callbackUrl: string | undefined,
): Promise<Response> {
  const key = idempotencyKeyOf(c)
  // The key's stored default too: where it resolves to may have changed since it was set.
  const target = callbackUrl ?? principal.callbackUrl
  if (target) await deps.checkCallbackUrl(target)
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
      beforeTakingTargets: deps.beforeTakingTargets,
      beforeUpstreamCall: deps.beforeUpstreamCall,
      afterUpstreamCall: deps.afterUpstreamCall,
    },
    {
      tenant: principal.tenant,
      keyId: principal.keyId,
      command,
      callbackUrl: callbackUrl ?? principal.callbackUrl,
      idempotency: key ? { key, requestHash: requestHash({ command, callbackUrl }) } : undefined,
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
      const record = dsFromDnskey(domain, parseDnskey(parsed.dnskey), parsed.digestType)
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
      return { record, callbackUrl: parsed.callbackUrl }
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
  return { record: { keyTag, algorithm, digestType, digest }, callbackUrl: parsed.callbackUrl }
}

const keyTagParam = (c: Context<AppEnv>) =>
  parseOrThrow(KeyTagPathSchema, c.req.param('keyTag'), 'path.keyTag')

export function registerSubmitRoutes(app: App, deps: ApiDeps): void {
  defineRoute(
    app,
    createRoute({
      method: 'post',
      path: '/domains/{name}/ds',
      operationId: 'addDsRecord',
      tags: ['DS records'],
      summary: 'Add a DS record (SaveSingleTaskForAddingDSRecord)',
      security: [{ bearer: [] }],
      request: {
        params: z.object({ name: DomainNameSchema }),
        headers,
        body: bodySpec(DsBodySchema, true),
      },
      responses: accepted,
    }),
    async (c) => {
      const principal = await authorize(c, deps, 'ds.add')
      const domain = await domainInPath(c, deps, principal, { submit: true })
      requireDsTld(deps, domain)
      const { record, callbackUrl } = dsRecordFrom(
        await readJsonBody(c, { optional: false }),
        domain,
        undefined,
      )
      return submit(c, deps, principal, { action: 'ds.add', domain, record }, callbackUrl)
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'put',
      path: '/domains/{name}/ds/{keyTag}',
      operationId: 'replaceDsRecord',
      tags: ['DS records'],
      summary: 'Replace the DS record with this key tag (SaveSingleTaskForModifyingDSRecord)',
      security: [{ bearer: [] }],
      request: {
        params: z.object({ name: DomainNameSchema, keyTag: KeyTagPathSchema }),
        headers,
        body: bodySpec(DsBodySchema, true),
      },
      responses: accepted,
    }),
    async (c) => {
      const principal = await authorize(c, deps, 'ds.modify')
      const domain = await domainInPath(c, deps, principal, { submit: true })
      requireDsTld(deps, domain)
      const keyTag = keyTagParam(c)
      const { record, callbackUrl } = dsRecordFrom(
        await readJsonBody(c, { optional: false }),
        domain,
        keyTag,
      )
      return submit(c, deps, principal, { action: 'ds.modify', domain, record }, callbackUrl)
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'delete',
      path: '/domains/{name}/ds/{keyTag}',
      operationId: 'deleteDsRecord',
      tags: ['DS records'],
      summary: 'Delete the DS record with this key tag (SaveSingleTaskForDeletingDSRecord)',
      security: [{ bearer: [] }],
      request: {
        params: z.object({ name: DomainNameSchema, keyTag: KeyTagPathSchema }),
        headers,
        body: bodySpec(CallbackOnlyBodySchema, false),
      },
      responses: accepted,
    }),
    async (c) => {
      const principal = await authorize(c, deps, 'ds.delete')
      const domain = await domainInPath(c, deps, principal, { submit: true })
      const keyTag = keyTagParam(c)
      const body = await jsonBody(c, CallbackOnlyBodySchema, { optional: true })
      return submit(c, deps, principal, { action: 'ds.delete', domain, keyTag }, body.callbackUrl)
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'post',
      path: '/domains/{name}/ds/sync',
      operationId: 'syncDsRecords',
      tags: ['Sync'],
      summary: 'Push the DS records to the registry again (SaveSingleTaskForSynchronizingDSRecord)',
      security: [{ bearer: [] }],
      request: {
        params: z.object({ name: DomainNameSchema }),
        headers,
        body: bodySpec(CallbackOnlyBodySchema, false),
      },
      responses: accepted,
    }),
    async (c) => {
      const principal = await authorize(c, deps, 'ds.sync')
      const domain = await domainInPath(c, deps, principal, { submit: true })
      const body = await jsonBody(c, CallbackOnlyBodySchema, { optional: true })
      return submit(c, deps, principal, { action: 'ds.sync', domain }, body.callbackUrl)
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'post',
      path: '/instances/{instanceId}/dns-hosts/sync',
      operationId: 'syncDnsHosts',
      tags: ['Sync'],
      summary: 'Synchronise the DNS hosts of an instance (SaveSingleTaskForSynchronizingDnsHost)',
      security: [{ bearer: [] }],
      request: {
        params: z.object({ instanceId: InstanceIdSchema }),
        headers,
        body: bodySpec(CallbackOnlyBodySchema, false),
      },
      responses: accepted,
    }),
    async (c) => {
      const principal = await authorize(c, deps, 'dnshost.sync')
      const instanceId = parseOrThrow(
        InstanceIdSchema,
        c.req.param('instanceId'),
        'path.instanceId',
      )
      await requireInstance(deps, principal, instanceId)
      const body = await jsonBody(c, CallbackOnlyBodySchema, { optional: true })
      return submit(c, deps, principal, { action: 'dnshost.sync', instanceId }, body.callbackUrl)
    },
  )

  defineRoute(
    app,
    createRoute({
      method: 'post',
      path: '/dns-batch',
      operationId: 'changeNameServersBatch',
      tags: ['Name servers'],
      summary: 'Change the name servers of up to 100 domains (SaveBatchTaskForModifyingDomainDns)',
      security: [{ bearer: [] }],
      request: { headers, body: bodySpec(DnsBatchBodySchema, true) },
      responses: accepted,
    }),
    async (c) => {
      const principal = await authorize(c, deps, 'dns.batch')
      const body = await jsonBody(c, DnsBatchBodySchema)
      await requireDomains(deps, principal, body.domains, { submit: true })
      return submit(
        c,
        deps,
        principal,
        {
          action: 'dns.batch',
          domains: body.domains,
          aliyunDns: body.aliyunDns,
          nameServers: body.nameServers ?? [],
        },
        body.callbackUrl,
      )
    },
  )
}
