import { randomUUID } from 'node:crypto'
import type { z } from 'zod'
import { jitteredBackoffMs, sleep } from '../backoff.ts'
import type { UpstreamConfig } from '../config/upstream-config.ts'
import { checkedDispatcher } from '../http/checked-dispatch.ts'
import {
  type Dispatcher,
  loadUndici,
  type Pool,
  request,
  undiciIfLoaded,
} from '../http/undici-core.ts'
import { type Metrics, noMetrics } from '../metrics.ts'
import { ClockSkewTracker } from './clock-skew.ts'
import {
  ErrorResponseSchema,
  QueryDnsHostResponseSchema,
  QueryDomainResponseSchema,
  QueryDsRecordResponseSchema,
  QueryTaskDetailListResponseSchema,
  QueryTaskListResponseSchema,
  SubmitTaskResponseSchema,
  type SubmitTaskResult,
} from './responses.ts'
import { type FlatParams, flattenParams, type RpcParams } from './rpc-params.ts'
import { formatRpcTimestamp, signRpcRequestV1 } from './signature-v1.ts'
import { canonicalQueryV3, signRequestV3 } from './signature-v3.ts'
import {
  type CallKind,
  classifyErrorResponse,
  classifyTransportFailure,
  Retryability,
  UpstreamError,
} from './upstream-error.ts'

/** The actions this gateway calls, and whether each changes a domain. */
export const DomainActions = {
  SaveSingleTaskForAddingDSRecord: 'write',
  SaveSingleTaskForModifyingDSRecord: 'write',
  SaveSingleTaskForDeletingDSRecord: 'write',
  SaveSingleTaskForSynchronizingDSRecord: 'write',
  SaveSingleTaskForSynchronizingDnsHost: 'write',
  SaveBatchTaskForModifyingDomainDns: 'write',
  QueryTaskDetailList: 'read',
  QueryTaskList: 'read',
  QueryDSRecord: 'read',
  QueryDnsHost: 'read',
  QueryDomainByDomainName: 'read',
} as const satisfies Record<string, CallKind>
export type DomainAction = keyof typeof DomainActions
export type SubmitAction = {
  [A in DomainAction]: (typeof DomainActions)[A] extends 'write' ? A : never
}[DomainAction]

export interface CommonOptions {
  /** Language of error messages: `en` (default) or `zh`. */
  readonly lang?: 'en' | 'zh'
  readonly userClientIp?: string
}

/** Options of the `Save*` calls. */
export interface WriteOptions extends CommonOptions {
  /**
   * Epoch ms. No attempt is signed, or put on the wire, after this instant: checked before signing
   * and again immediately before undici writes the request to a socket. A refused attempt fails
   * with `SendWindowClosed` and is proven unsent.
   */
  readonly sendBy?: number | undefined
}

export interface DsRecordInput extends WriteOptions {
  readonly domainName: string
  readonly keyTag: number
  readonly algorithm: number
  readonly digestType: number
  readonly digest: string
}

export interface QueryTaskDetailListInput extends CommonOptions {
  readonly taskNo: string
  readonly pageNum?: number
  /** At most 1000. */
  readonly pageSize?: number
  /** 0 waiting, 1 executing, 2 succeeded, 3 failed. */
  readonly taskStatus?: 0 | 1 | 2 | 3
  readonly domainName?: string
  readonly instanceId?: string
}

export interface QueryTaskListInput extends CommonOptions {
  /** Epoch milliseconds. */
  readonly beginCreateTime?: number
  readonly endCreateTime?: number
  readonly pageNum?: number
  readonly pageSize?: number
}

/** Collaborators a client needs; all but `config` have production defaults. */
export interface DomainApiClientDeps {
  readonly config: UpstreamConfig
  readonly dispatcher?: Dispatcher
  readonly now?: () => number
  readonly nonce?: () => string
  readonly random?: () => number
  readonly sleep?: (ms: number) => Promise<void>
  readonly clockSkew?: ClockSkewTracker
  /** Counts every attempt (`UpstreamCalls`) and every failed one (`UpstreamErrors`). */
  readonly metrics?: Metrics
}

const READ_BACKOFF = { baseMs: 200, maxMs: 5_000 } as const
/** A write is retried only after errors proving nothing was done (throttling, refused connect). */
const WRITE_RETRIES = 2
const MAX_ERROR_BODY = 2_048

const pools = new Map<string, Promise<Pool>>()
const skews = new Map<string, ClockSkewTracker>()

/** The value kept for the endpoint's origin, made on first use. */
function perOrigin<T>(cache: Map<string, T>, endpoint: string, make: (origin: string) => T): T {
  const origin = new URL(endpoint).origin
  let value = cache.get(origin)
  if (value === undefined) {
    value = make(origin)
    cache.set(origin, value)
  }
  return value
}

/** One clock-offset tracker per upstream origin per process. */
function sharedClockSkew(config: UpstreamConfig): ClockSkewTracker {
  return perOrigin(skews, config.endpoint, () => new ClockSkewTracker())
}

/**
 * One keep-alive pool per upstream origin per process, shared by every client instance; made
 * (and undici loaded) at the first call, not at start.
 */
export function sharedUpstreamPool(config: UpstreamConfig): Promise<Pool> {
  return perOrigin(pools, config.endpoint, async (origin) => {
    const { Pool } = await loadUndici()
    return new Pool(origin, {
      connections: config.maxConnections,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 30_000,
      connect: { timeout: config.connectTimeoutMs },
    })
  })
}

/**
 * A typed client for the Alibaba Cloud Domain API (RPC style), signing each request with
 * signature version 1.0 or V3. Reads are retried with jittered backoff and a fresh nonce;
 * `Save*` calls are never retried unless the failure proves no task was created.
 */
export class DomainApiClient {
  readonly #config: UpstreamConfig
  /** The given dispatcher, or the shared pool once the first call has made it. */
  #dispatcher: Dispatcher | undefined
  readonly #now: () => number
  readonly #nonce: () => string
  readonly #random: () => number
  readonly #sleep: (ms: number) => Promise<void>
  readonly #url: URL
  readonly #skew: ClockSkewTracker
  readonly #metrics: Metrics

  constructor(deps: DomainApiClientDeps) {
    this.#metrics = deps.metrics ?? noMetrics
    this.#config = deps.config
    this.#dispatcher = deps.dispatcher
    this.#now = deps.now ?? Date.now
    this.#nonce = deps.nonce ?? randomUUID
    this.#random = deps.random ?? Math.random
    this.#sleep = deps.sleep ?? sleep
    this.#url = new URL(`${deps.config.endpoint}/`)
    this.#skew = deps.clockSkew ?? sharedClockSkew(deps.config)
  }

  addDsRecord(input: DsRecordInput): Promise<SubmitTaskResult> {
    return this.submit('SaveSingleTaskForAddingDSRecord', dsRecordParams(input), input)
  }

  modifyDsRecord(input: DsRecordInput): Promise<SubmitTaskResult> {
    return this.submit('SaveSingleTaskForModifyingDSRecord', dsRecordParams(input), input)
  }

  deleteDsRecord(
    input: { domainName: string; keyTag: number } & WriteOptions,
  ): Promise<SubmitTaskResult> {
    return this.submit(
      'SaveSingleTaskForDeletingDSRecord',
      { DomainName: input.domainName, KeyTag: input.keyTag, ...commonParams(input) },
      input,
    )
  }

  syncDsRecord(input: { domainName: string } & WriteOptions): Promise<SubmitTaskResult> {
    return this.submit(
      'SaveSingleTaskForSynchronizingDSRecord',
      { DomainName: input.domainName, ...commonParams(input) },
      input,
    )
  }

  syncDnsHost(input: { instanceId: string } & WriteOptions): Promise<SubmitTaskResult> {
    return this.submit(
      'SaveSingleTaskForSynchronizingDnsHost',
      { InstanceId: input.instanceId, ...commonParams(input) },
      input,
    )
  }

  modifyDomainDnsBatch(
    input: {
      domainNames: readonly string[]
      aliyunDns: boolean
      nameServers?: readonly string[]
    } & WriteOptions,
  ): Promise<SubmitTaskResult> {
    return this.submit(
      'SaveBatchTaskForModifyingDomainDns',
      {
        AliyunDns: input.aliyunDns,
        DomainName: input.domainNames,
        DomainNameServer: input.aliyunDns ? undefined : input.nameServers,
        ...commonParams(input),
      },
      input,
    )
  }

  queryTaskDetailList(input: QueryTaskDetailListInput) {
    return this.call('QueryTaskDetailList', QueryTaskDetailListResponseSchema, {
      TaskNo: input.taskNo,
      PageNum: input.pageNum ?? 1,
      PageSize: input.pageSize ?? 1000,
      TaskStatus: input.taskStatus,
      DomainName: input.domainName,
      InstanceId: input.instanceId,
      ...commonParams(input),
    })
  }

  /** Every detail of a task, following `NextPage` until the last page. */
  async queryAllTaskDetails(input: Omit<QueryTaskDetailListInput, 'pageNum'>) {
    const details = []
    for (let pageNum = 1; ; pageNum++) {
      const page = await this.queryTaskDetailList({ ...input, pageNum })
      details.push(...page.details)
      if (!page.hasNextPage || page.details.length === 0) return details
    }
  }

  queryTaskList(input: QueryTaskListInput) {
    return this.call('QueryTaskList', QueryTaskListResponseSchema, {
      BeginCreateTime: input.beginCreateTime,
      EndCreateTime: input.endCreateTime,
      PageNum: input.pageNum ?? 1,
      PageSize: input.pageSize ?? 100,
      ...commonParams(input),
    })
  }

  queryDsRecord(input: { domainName: string } & CommonOptions) {
    return this.call('QueryDSRecord', QueryDsRecordResponseSchema, {
      DomainName: input.domainName,
      ...commonParams(input),
    })
  }

  /** The domain's registration facts, with its current name servers. */
  queryDomain(input: { domainName: string } & CommonOptions) {
    return this.call('QueryDomainByDomainName', QueryDomainResponseSchema, {
      DomainName: input.domainName,
      ...commonParams(input),
    })
  }

  queryDnsHost(input: { instanceId: string } & CommonOptions) {
    return this.call('QueryDnsHost', QueryDnsHostResponseSchema, {
      InstanceId: input.instanceId,
      ...commonParams(input),
    })
  }

  submit(
    action: SubmitAction,
    params: RpcParams,
    options: Pick<WriteOptions, 'sendBy'> = {},
  ): Promise<SubmitTaskResult> {
    return this.call(action, SubmitTaskResponseSchema, params, options.sendBy)
  }

  /** Bounds on the service's clock offset measured so far (see {@link ClockSkewTracker}). */
  get clockSkew(): ClockSkewTracker {
    return this.#skew
  }

  /** Signs, sends and parses one action, retrying as its kind allows. */
  async call<S extends z.ZodType>(
    action: DomainAction,
    schema: S,
    params: RpcParams,
    sendBy?: number,
  ): Promise<z.infer<S>> {
    const kind = DomainActions[action]
    const maxRetries = kind === 'read' ? this.#config.readRetries : WRITE_RETRIES
    for (let attempt = 0; ; attempt++) {
      this.#metrics.add('UpstreamCalls', 1, { dimensions: { Action: action } })
      try {
        return await this.#send(action, kind, schema, params, sendBy)
      } catch (error) {
        if (error instanceof UpstreamError) {
          this.#metrics.add('UpstreamErrors', 1, {
            dimensions: { Code: error.code, Retryability: error.retryability },
          })
        }
        const retryable =
          error instanceof UpstreamError && error.retryability === Retryability.retryable
        if (!retryable || attempt >= maxRetries) throw error
        await this.#sleep(jitteredBackoffMs(attempt, READ_BACKOFF, this.#random))
      }
    }
  }

  async #send<S extends z.ZodType>(
    action: DomainAction,
    kind: CallKind,
    schema: S,
    params: RpcParams,
    sendBy: number | undefined,
  ): Promise<z.infer<S>> {
    const write = kind === 'write'
    // A write is neither signed nor sent once its window has closed (or our clock is proven off).
    const refusal = write ? this.#refusalToSend(action, sendBy) : undefined
    if (refusal) throw refusal
    const prepared = this.#prepare(action, params)
    // The pool is made (and undici loaded) at the first call; later calls do not wait for it.
    this.#dispatcher ??= await sharedUpstreamPool(this.#config)
    if (write && !undiciIfLoaded()) await loadUndici() // a caller's own dispatcher, first write
    const dispatcher = write
      ? checkedDispatcher(this.#dispatcher, () => this.#refusalToSend(action, sendBy))
      : this.#dispatcher
    const sentAt = this.#now()
    let status: number
    let text: string
    try {
      const response = await request(prepared.url, {
        method: this.#config.method,
        headers: prepared.headers,
        body: prepared.body,
        dispatcher,
        // undici's own timers bound the wait for headers and between body chunks (no extra
        // AbortSignal timer per request: it costs more CPU than the rest of the call).
        headersTimeout: this.#config.timeoutMs,
        bodyTimeout: this.#config.timeoutMs,
      })
      status = response.statusCode
      const date = response.headers.date
      this.#skew.observe(typeof date === 'string' ? date : undefined, sentAt, this.#now())
      text = await response.body.text()
    } catch (error) {
      if (error instanceof UpstreamError) throw error
      throw new UpstreamError({
        action,
        code: isTimeout(error) ? 'RequestTimeout' : 'NetworkError',
        message: describeTransportError(error),
        retryability: classifyTransportFailure(kind, error),
        cause: error,
      })
    }
    return parseResponse(action, kind, schema, status, text)
  }

  /** Why a write may not be signed or sent now, if it may not. */
  #refusalToSend(action: DomainAction, sendBy: number | undefined): UpstreamError | undefined {
    const now = this.#now()
    if (sendBy !== undefined && now > sendBy) {
      return new UpstreamError({
        action,
        code: 'SendWindowClosed',
        message: `the request was not sent: its send window closed ${now - sendBy} ms ago`,
        retryability: Retryability.final,
        notSent: true,
      })
    }
    const skew = this.#skew.provenSkewMs()
    if (Math.abs(skew) > this.#config.maxClockSkewMs) {
      return new UpstreamError({
        action,
        code: 'ClockSkewTooLarge',
        message: `the request was not sent: the service's clock is at least ${Math.abs(skew)} ms ${
          skew > 0 ? 'ahead of' : 'behind'
        } ours (allowed: ${this.#config.maxClockSkewMs} ms)`,
        retryability: Retryability.final,
        notSent: true,
      })
    }
    return undefined
  }

  #prepare(action: DomainAction, params: RpcParams) {
    const config = this.#config
    const flat = flattenParams(params)
    const nonce = this.#nonce()
    const timestamp = formatRpcTimestamp(this.#now())
    const contentType = 'application/x-www-form-urlencoded'
    if (config.signatureVersion === 'v3') {
      // V3 carries no Format parameter of its own; ask for JSON explicitly (XML is the default).
      const withFormat = { ...flat, Format: 'JSON' }
      const query: FlatParams = config.method === 'GET' ? withFormat : {}
      const body = config.method === 'POST' ? canonicalQueryV3(withFormat) : ''
      const signed = signRequestV3({
        method: config.method,
        host: this.#url.host,
        action,
        version: config.apiVersion,
        query,
        body,
        contentType: body ? contentType : undefined,
        credentials: config.credentials,
        nonce,
        date: timestamp,
      })
      const url = new URL(this.#url)
      for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value)
      const { host: _host, ...headers } = signed.headers
      return { url, headers, body: body || undefined }
    }
    const signed = signRpcRequestV1({
      method: config.method,
      action,
      version: config.apiVersion,
      params: flat,
      credentials: config.credentials,
      nonce,
      timestamp,
    })
    if (config.method === 'GET') {
      return { url: new URL(`${this.#url.href}?${signed.encoded}`), headers: {}, body: undefined }
    }
    return { url: this.#url, headers: { 'content-type': contentType }, body: signed.encoded }
  }
}

function commonParams(options: CommonOptions): RpcParams {
  return { Lang: options.lang, UserClientIp: options.userClientIp }
}

function dsRecordParams(input: DsRecordInput): RpcParams {
  return {
    DomainName: input.domainName,
    KeyTag: input.keyTag,
    Algorithm: input.algorithm,
    DigestType: input.digestType,
    Digest: input.digest,
    ...commonParams(input),
  }
}

/** Turns an HTTP answer into the parsed result or an {@link UpstreamError}. Exported for tests. */
export function parseResponse<S extends z.ZodType>(
  action: DomainAction,
  kind: CallKind,
  schema: S,
  status: number,
  text: string,
): z.infer<S> {
  let body: unknown
  let parseFailure: unknown
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text)
    } catch (error) {
      parseFailure = error
    }
  }
  // Only answers that carry a `Code` (or a non-2xx status) are errors: check cheaply first, and
  // run the schema only then, so a successful call pays for one parse.
  const hasCode = typeof (body as { Code?: unknown } | undefined)?.Code === 'string'
  const errorBody = hasCode || status >= 300 ? ErrorResponseSchema.safeParse(body) : undefined
  if (errorBody?.success || status >= 300) {
    const code = errorBody?.success ? errorBody.data.Code : `Http${status}`
    const message = errorBody?.success
      ? (errorBody.data.Message ?? code)
      : text.trim() === ''
        ? `HTTP ${status} with an empty body`
        : `HTTP ${status}: ${text.slice(0, MAX_ERROR_BODY)}`
    throw new UpstreamError({
      action,
      code,
      message,
      requestId: errorBody?.success ? errorBody.data.RequestId : undefined,
      httpStatus: status,
      retryability: classifyErrorResponse(kind, status, errorBody?.success ? code : undefined),
    })
  }
  if (body === undefined) {
    throw new UpstreamError({
      action,
      code: 'MalformedResponse',
      message: parseFailure ? 'the response body is not JSON' : 'the response body is empty',
      httpStatus: status,
      retryability: classifyTransportFailure(kind, parseFailure),
      cause: parseFailure,
    })
  }
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    throw new UpstreamError({
      action,
      code: 'UnexpectedResponse',
      message: `the response does not match the expected shape: ${parsed.error.issues
        .map((issue) => `${issue.path.join('.') || '(root)'} ${issue.message}`)
        .join('; ')}`,
      requestId: (body as { RequestId?: string }).RequestId,
      httpStatus: status,
      // A write answered 200 may have created its task even if we cannot read the TaskNo.
      retryability: kind === 'write' ? Retryability.ambiguous : Retryability.final,
    })
  }
  return parsed.data
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string }).name
  const code = (error as { code?: string }).code
  return (
    name === 'TimeoutError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  )
}

function describeTransportError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  return [code, message].filter(Boolean).join(': ') || 'network error'
}
