/**
 * What a caller may do after a failed upstream call:
 * - `retryable`: the request provably did not change anything (throttled, refused before sending;
 *   for reads also a 5xx): send it again later with a new nonce.
 * - `ambiguous`: a `Save*` request was sent and the outcome is unknown (timeout, any 5xx — 503
 *   included —, `NetworkIOError`, reset, unreadable answer): the task may exist. Look it up; never
 *   resubmit blindly.
 * - `final`: the service refused the request; sending it again gives the same answer.
 */
export const Retryability = {
  retryable: 'retryable',
  ambiguous: 'ambiguous',
  final: 'final',
} as const
export type Retryability = (typeof Retryability)[keyof typeof Retryability]

export interface UpstreamErrorDetails {
  readonly action: string
  readonly code: string
  readonly message: string
  readonly requestId?: string | undefined
  readonly httpStatus?: number | undefined
  readonly retryability: Retryability
  /** True when the request provably never left this process (nothing can have been created). */
  readonly notSent?: boolean | undefined
  readonly cause?: unknown
}

/** An Alibaba Cloud API call that did not succeed, with what the caller may do about it. */
export class UpstreamError extends Error {
  override name = 'UpstreamError'
  readonly action: string
  readonly code: string
  readonly requestId: string | undefined
  readonly httpStatus: number | undefined
  readonly retryability: Retryability
  readonly notSent: boolean

  constructor(details: UpstreamErrorDetails) {
    super(`${details.action}: ${details.code}: ${details.message}`, { cause: details.cause })
    this.action = details.action
    this.code = details.code
    this.requestId = details.requestId
    this.httpStatus = details.httpStatus
    this.retryability = details.retryability
    this.notSent = details.notSent ?? false
  }

  /**
   * The request never took effect at the service: it was not sent, or the service refused it as
   * signed too long ago (`InvalidTimeStamp.Expired`). The submission is `NotSubmitted`.
   */
  get neverReachedService(): boolean {
    return this.notSent || this.code === 'InvalidTimeStamp.Expired'
  }

  /** Nothing can have been created: never reached the service, or refused before any work. */
  get provesNothingDone(): boolean {
    return this.neverReachedService || this.retryability === Retryability.retryable
  }

  /** The upstream message alone, without the action and code prefix. */
  get upstreamMessage(): string {
    return this.message.slice(this.action.length + this.code.length + 4)
  }
}

/**
 * What an error code proves about a request the service answered:
 * - `refused-retry`: refused before any work (flow control); send again later, with a new nonce;
 * - `refused-final`: refused before any work, and the same request gets the same answer;
 * - `refused-busy`: refused before any work because another registry task runs on the target
 *   (`TaskIsBeingProcessed`); the gateway waits for it and sends again;
 * - `may-have-executed`: the request may have been carried out (for a `Save*`: a task may exist;
 *   look it up, never send it blindly again; a read is simply retried).
 * A code not in the table proves nothing: on a `Save*` it may have executed.
 */
export type CodeClass = 'refused-retry' | 'refused-final' | 'refused-busy' | 'may-have-executed'

export interface KnownCode {
  readonly class: CodeClass
  /** Where the classification comes from (see docs/api.md, "Upstream error codes"). */
  readonly source: string
}

const ERROR_TABLE = 'Domain API error table'
const FIELD_THROTTLING =
  'SDK retry rules (aliyun-openapi-python-sdk core, terraform-provider-alicloud errors.go)'
const GATEWAY = 'API gateway common errors (signature, credentials, version, action)'

/** Every upstream code the gateway knows, with what it proves and the source. */
export const UPSTREAM_CODES: Readonly<Record<string, KnownCode>> = {
  Throttling: { class: 'refused-retry', source: ERROR_TABLE },
  'Throttling.User': { class: 'refused-retry', source: ERROR_TABLE },
  'Throttling.Api': { class: 'refused-retry', source: ERROR_TABLE },
  'Throttling.API': { class: 'refused-retry', source: FIELD_THROTTLING },
  'Rejected.Throttling': { class: 'refused-retry', source: FIELD_THROTTLING },
  'Throttling.ConcurrentLimitExceeded': { class: 'refused-retry', source: FIELD_THROTTLING },
  TaskIsBeingProcessed: {
    class: 'refused-busy',
    source: 'Domain API error table (SaveSingleTaskForSynchronizingDnsHost)',
  },
  SignatureDoesNotMatch: { class: 'refused-final', source: GATEWAY },
  IncompleteSignature: { class: 'refused-final', source: GATEWAY },
  'InvalidAccessKeyId.NotFound': { class: 'refused-final', source: GATEWAY },
  'InvalidAccessKeyId.Inactive': { class: 'refused-final', source: GATEWAY },
  'InvalidTimeStamp.Expired': {
    class: 'refused-final',
    source: 'API gateway common errors: the timestamp window (15 min)',
  },
  'InvalidTimeStamp.Format': { class: 'refused-final', source: GATEWAY },
  InvalidVersion: { class: 'refused-final', source: GATEWAY },
  'InvalidAction.NotFound': { class: 'refused-final', source: GATEWAY },
  Forbidden: { class: 'refused-final', source: ERROR_TABLE },
  'Forbidden.RiskControl': { class: 'refused-final', source: ERROR_TABLE },
  'Forbidden.UserVerification': { class: 'refused-final', source: ERROR_TABLE },
  MissingParameter: { class: 'refused-final', source: ERROR_TABLE },
  InvalidParameter: { class: 'refused-final', source: ERROR_TABLE },
  ParameterIllegal: { class: 'refused-final', source: ERROR_TABLE },
  InvalidDomainName: { class: 'refused-final', source: ERROR_TABLE },
  DomainNotExist: { class: 'refused-final', source: ERROR_TABLE },
  SignatureNonceUsed: {
    class: 'may-have-executed',
    source: 'aliyun/alibaba-cloud-sdk-go#39: a copy of the same signed request reached the service',
  },
  InternalError: { class: 'may-have-executed', source: ERROR_TABLE },
  UnknownError: { class: 'may-have-executed', source: FIELD_THROTTLING },
  ServiceUnavailable: {
    class: 'may-have-executed',
    source: 'Domain API error table; a front end may answer so after the back end ran',
  },
  NetworkIOError: {
    class: 'may-have-executed',
    source:
      'Domain API docs (NetworkIOError on Save* actions; whether the task exists is not stated)',
  },
}

/** `Missing<Name>`: a required parameter absent (the service's gateway answers so). */
const MISSING_PARAMETER = /^Missing[A-Z]/

/** What a code proves; undefined for a code the gateway does not know. */
export function codeClass(code: string | undefined): CodeClass | undefined {
  if (code === undefined) return undefined
  const known = UPSTREAM_CODES[code]
  if (known) return known.class
  return MISSING_PARAMETER.test(code) ? 'refused-final' : undefined
}

export type CallKind = 'read' | 'write'

/** A throttling answer: a code the error table says was refused before it ran, to retry later. */
export function isThrottling(error: unknown): boolean {
  return (
    error instanceof UpstreamError &&
    error.retryability === Retryability.retryable &&
    codeClass(error.code) === 'refused-retry'
  )
}

/**
 * Classifies an error answer the service sent back. For a `Save*`, only a code known to be decided
 * before execution proves that nothing was done: flow control is retried, other refusals are
 * final; a code that may have executed, an unknown code, and any 5xx (`ServiceUnavailable`
 * included) leave the task possibly created. A read is retried on those instead.
 */
export function classifyErrorResponse(
  kind: CallKind,
  httpStatus: number,
  code: string | undefined,
): Retryability {
  const known = codeClass(code)
  if (known === 'refused-retry' || httpStatus === 429) return Retryability.retryable
  if (httpStatus >= 500 || known === 'may-have-executed') {
    return kind === 'read' ? Retryability.retryable : Retryability.ambiguous
  }
  if (known === 'refused-final' || known === 'refused-busy') return Retryability.final
  // Unknown: nothing proves it was decided before execution.
  return kind === 'write' ? Retryability.ambiguous : Retryability.final
}

/** Socket errors raised while connecting, before a byte of the request left this process. */
const CONNECT_PHASE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
])

export function isConnectPhaseError(error: unknown): boolean {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && CONNECT_PHASE_CODES.has(code)) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}

/** Classifies a failure with no usable answer: a network error, a timeout or an unreadable body. */
export function classifyTransportFailure(kind: CallKind, error: unknown): Retryability {
  if (isConnectPhaseError(error)) return Retryability.retryable
  return kind === 'read' ? Retryability.retryable : Retryability.ambiguous
}

/** Codes that mean this gateway's credentials, clock or signing are wrong: nothing a caller did. */
export function isGatewayFault(code: string): boolean {
  return (
    code.startsWith('Signature') ||
    code.startsWith('InvalidAccessKeyId') ||
    code.startsWith('InvalidTimeStamp') ||
    code.startsWith('InvalidSecurityToken') ||
    code === 'IncompleteSignature' ||
    code.startsWith('Forbidden') ||
    code === 'InvalidVersion' ||
    code.startsWith('InvalidAction')
  )
}

/** Upstream codes that are the caller's input being refused: their messages speak of the request. */
export const CALLER_INPUT_CODES: ReadonlySet<string> = new Set([
  'MissingParameter',
  'InvalidParameter',
  'ParameterIllegal',
  'DomainNotExist',
  'InvalidDomainName',
])

/** The caller's input refused: the codes above, and `Missing<Name>` (a required parameter absent). */
export function isCallerInputCode(code: string): boolean {
  return CALLER_INPUT_CODES.has(code) || MISSING_PARAMETER.test(code)
}

/**
 * What a tenant may read about an upstream error. The service's own words only where they are
 * about the caller's request (a refused parameter, a busy domain); otherwise a fixed sentence per
 * kind — an upstream message can hold the gateway's AccessKeyId and the string it signed
 * (`SignatureDoesNotMatch`), host names or internal detail. Operators find the full text in logs.
 */
export function tenantMessage(error: UpstreamError): string {
  if (isCallerInputCode(error.code)) {
    return error.upstreamMessage
  }
  if (error.code === 'TaskIsBeingProcessed') {
    return 'Another task is running on this domain at Alibaba Cloud.'
  }
  if (isGatewayFault(error.code)) {
    return "Alibaba Cloud refused the gateway's own credentials, clock or signature."
  }
  if (codeClass(error.code) === 'refused-retry') return 'Alibaba Cloud is throttling requests.'
  if (error.retryability !== Retryability.final) return 'Alibaba Cloud could not be reached.'
  return 'Alibaba Cloud refused the request.'
}
