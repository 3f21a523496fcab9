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

/** Codes with which the service refuses a request before doing any work. */
const THROTTLING_CODES = new Set([
  'Throttling',
  'Throttling.User',
  'Throttling.Api',
  'Throttling.API',
  // The nonce was already seen: the request was refused before any work; resend with a new one.
  'SignatureNonceUsed',
])

/** Codes that mean the service failed while handling the request, so a task may exist. */
const SERVER_FAILURE_CODES = new Set([
  'InternalError',
  'NetworkIOError',
  'UnknownError',
  'ServiceUnavailable',
])

export type CallKind = 'read' | 'write'

/**
 * Classifies an error answer the service sent back. For a `Save*`, only a throttling answer proves
 * that nothing was done; any 5xx (503 and `ServiceUnavailable` included: a front end may answer so
 * after the back end ran the action) and the server-failure codes leave the task possibly created.
 */
export function classifyErrorResponse(
  kind: CallKind,
  httpStatus: number,
  code: string | undefined,
): Retryability {
  if (code && THROTTLING_CODES.has(code)) return Retryability.retryable
  if (httpStatus === 429) return Retryability.retryable
  if (httpStatus >= 500 || (code && SERVER_FAILURE_CODES.has(code))) {
    return kind === 'read' ? Retryability.retryable : Retryability.ambiguous
  }
  return Retryability.final
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
  return CALLER_INPUT_CODES.has(code) || /^Missing[A-Z]/.test(code)
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
  if (THROTTLING_CODES.has(error.code)) return 'Alibaba Cloud is throttling requests.'
  if (error.retryability !== Retryability.final) return 'Alibaba Cloud could not be reached.'
  return 'Alibaba Cloud refused the request.'
}
