import { randomUUID } from 'node:crypto'
import type * as z from 'zod'
import { jitteredBackoffMs, sleep } from '../backoff.ts'
import { checkedDispatcher } from '../http/checked-dispatch.ts'
import { type Dispatcher, loadUndici, request, undiciIfLoaded } from '../http/undici-core.ts'
import { type Metrics, noMetrics } from '../metrics.ts'
import type { ClockSkewTracker } from './clock-skew.ts'
import type { DomainApiSettings } from './domain-api-settings.ts'
import {
  type CommonOptions,
  type DomainAction,
  DomainActions,
  type DomainApiClientDeps,
  type DsRecordInput,
  type QueryTaskDetailListInput,
  type QueryTaskListInput,
  type SubmitAction,
  type WriteOptions,
} from './domain-api-types.ts'
import {
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
  classifyTransportFailure,
  isThrottling,
  Retryability,
  UpstreamError,
} from './upstream-error.ts'
import {
  describeTransportError,
  isTimeout,
  parseResponse,
  sharedClockSkew,
  sharedUpstreamPool,
} from './upstream-transport.ts'

const READ_BACKOFF = { baseMs: 200, maxMs: 5_000 } as const
/** A write is retried only after errors proving nothing was done (throttling, refused connect). */
const WRITE_RETRIES = 2

/**
 * A typed client for the Alibaba Cloud Domain API (RPC style), signing each request with
 * signature version 1.0 or V3. Reads are retried with jittered backoff and a fresh nonce;
 * `Save*` calls are never retried unless the failure proves no task was created.
 */
export class DomainApiClient {
  readonly #config: DomainApiSettings
  /** The given dispatcher, or the shared pool once the first call has made it. */
  #dispatcher: Dispatcher | undefined
  readonly #now: () => number
  readonly #nonce: () => string
  readonly #random: () => number
  readonly #sleep: (ms: number) => Promise<void>
  readonly #url: URL
  readonly #skew: ClockSkewTracker
  readonly #metrics: Metrics
  readonly #limiter: DomainApiClientDeps['limiter']

  constructor(deps: DomainApiClientDeps) {
    this.#metrics = deps.metrics ?? noMetrics
    this.#limiter = deps.limiter
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
      // The account's shared rate: wait for a token (a write's send window is checked after).
      await this.#limiter?.acquire()
      this.#metrics.add('UpstreamCalls', 1, { dimensions: { Action: action } })
      try {
        return await this.#send(action, kind, schema, params, sendBy)
      } catch (error) {
        if (error instanceof UpstreamError) {
          this.#metrics.add('UpstreamErrors', 1, {
            dimensions: { Code: error.code, Retryability: error.retryability },
          })
          // Throttled: every worker of the account slows down, not only this one.
          if (isThrottling(error)) await this.#limiter?.throttled().catch(() => {})
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
