import { timingSafeEqual } from 'node:crypto'
import type { FlatParams } from '#shared/aliyun/rpc-params.ts'
import { signatureV1, stringToSignV1 } from '#shared/aliyun/signature-v1.ts'
import {
  canonicalRequestV3,
  parseV3Authorization,
  sha256Hex,
  signatureV3,
  stringToSignV3,
} from '#shared/aliyun/signature-v3.ts'
import { EmulatorErrors } from './emulator-error.ts'
import type { ResponseFormat } from './render.ts'

/**
 * Accepted distance between a request's signed Timestamp and the service's clock at its arrival,
 * and nonce memory: both 15 minutes on the real service. The window can be narrowed (see
 * `EmulatorOptions.timestampWindowMs`) so tests can watch it close.
 */
export const TIMESTAMP_TOLERANCE_MS = 15 * 60_000
export const NONCE_MEMORY_MS = 15 * 60_000

export interface EmulatorCredential {
  readonly accessKeyId: string
  readonly accessKeySecret: string
  /** When set, requests with this key must carry exactly this STS token. */
  readonly securityToken?: string | undefined
}

export interface IncomingApiRequest {
  readonly method: string
  readonly url: URL
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface AuthenticatedCall {
  readonly action: string
  readonly version: string
  readonly format: ResponseFormat
  /** The action's own parameters, common ones removed. */
  readonly params: FlatParams
  readonly signatureVersion: 'v1' | 'v3'
  /** The signed Timestamp (v1) or x-acs-date (V3), as sent. */
  readonly timestamp: string
}

const COMMON_PARAMS = new Set([
  'Action',
  'Version',
  'Format',
  'AccessKeyId',
  'SignatureMethod',
  'SignatureVersion',
  'SignatureNonce',
  'SignatureType',
  'Timestamp',
  'Signature',
  'SecurityToken',
])

const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/

/** Remembers nonces for {@link NONCE_MEMORY_MS}; a second use inside that window is refused. */
export class NonceMemory {
  readonly #seen = new Map<string, number>()

  /** True when the nonce is new (and is now remembered). */
  remember(nonce: string, now: number): boolean {
    this.#forgetExpired(now)
    if (this.#seen.has(nonce)) return false
    this.#seen.set(nonce, now + NONCE_MEMORY_MS)
    return true
  }

  get size(): number {
    return this.#seen.size
  }

  #forgetExpired(now: number): void {
    // Insertion order is expiry order, so expired entries sit at the front.
    for (const [nonce, expiresAt] of this.#seen) {
      if (expiresAt > now) return
      this.#seen.delete(nonce)
    }
  }
}

function readParams(request: IncomingApiRequest): FlatParams {
  const params: FlatParams = Object.fromEntries(request.url.searchParams)
  const contentType = request.headers['content-type'] ?? ''
  if (request.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(request.body)) params[name] = value
  }
  return params
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

function checkTimestamp(value: string, now: number, windowMs: number): void {
  if (!TIMESTAMP_PATTERN.test(value)) throw EmulatorErrors.timestampFormat()
  const at = Date.parse(value)
  if (Number.isNaN(at)) throw EmulatorErrors.timestampFormat()
  if (Math.abs(at - now) > windowMs) throw EmulatorErrors.timestampExpired()
}

/**
 * The answer's format, as the service picks it: the `Format` parameter when given; else the
 * `Accept` header when it names JSON or XML; else JSON for a V3 (ACS3) request — the generated
 * SDKs send no `Format` and parse only JSON — and XML for a v1 request.
 */
export function negotiateFormat(
  params: FlatParams,
  headers: Readonly<Record<string, string>>,
  signatureVersion: 'v1' | 'v3',
): ResponseFormat {
  if (params.Format !== undefined) {
    const format = params.Format.toUpperCase()
    if (format !== 'XML' && format !== 'JSON') throw EmulatorErrors.invalidParameter('Format')
    return format
  }
  const accept = (headers.accept ?? '').toLowerCase()
  if (/\bjson\b/.test(accept)) return 'JSON'
  if (/\bxml\b/.test(accept)) return 'XML'
  return signatureVersion === 'v3' ? 'JSON' : 'XML'
}

function actionParams(params: FlatParams): FlatParams {
  return Object.fromEntries(Object.entries(params).filter(([name]) => !COMMON_PARAMS.has(name)))
}

/**
 * Verifies a signed RPC request the way the service does, in its order: required parameters,
 * access key, security token, timestamp, signature, then nonce (a request with a bad signature
 * does not use up its nonce). `now` is the request's arrival time.
 */
export function authenticate(
  request: IncomingApiRequest,
  credentials: ReadonlyMap<string, EmulatorCredential>,
  nonces: NonceMemory,
  now: number,
  timestampWindowMs: number = TIMESTAMP_TOLERANCE_MS,
): AuthenticatedCall {
  if (request.method !== 'GET' && request.method !== 'POST')
    throw EmulatorErrors.unsupportedMethod()
  const authorization = request.headers.authorization
  if (authorization?.startsWith('ACS3-')) {
    return authenticateV3(request, authorization, credentials, nonces, now, timestampWindowMs)
  }
  const params = readParams(request)
  for (const name of ['AccessKeyId', 'SignatureNonce', 'Timestamp', 'Version', 'Action']) {
    if (!params[name]) throw EmulatorErrors.missingParameter(name)
  }
  if (!params.Signature) throw EmulatorErrors.incompleteSignature('Signature is missing.')
  if (params.SignatureMethod !== 'HMAC-SHA1') {
    throw EmulatorErrors.incompleteSignature('SignatureMethod must be HMAC-SHA1.')
  }
  if (params.SignatureVersion !== '1.0') {
    throw EmulatorErrors.incompleteSignature('SignatureVersion must be 1.0.')
  }
  const credential = credentials.get(params.AccessKeyId as string)
  if (!credential) throw EmulatorErrors.accessKeyNotFound()
  if (credential.securityToken && params.SecurityToken !== credential.securityToken) {
    throw EmulatorErrors.securityTokenInvalid()
  }
  checkTimestamp(params.Timestamp as string, now, timestampWindowMs)
  const stringToSign = stringToSignV1(request.method, params)
  const expected = signatureV1(stringToSign, credential.accessKeySecret)
  if (!safeEqual(expected, params.Signature)) {
    throw EmulatorErrors.signatureDoesNotMatch(stringToSign)
  }
  if (!nonces.remember(params.SignatureNonce as string, now)) throw EmulatorErrors.nonceUsed()
  return {
    action: params.Action as string,
    version: params.Version as string,
    format: negotiateFormat(params, request.headers, 'v1'),
    params: actionParams(params),
    signatureVersion: 'v1',
    timestamp: params.Timestamp as string,
  }
}

const V3_REQUIRED_HEADERS = [
  'x-acs-action',
  'x-acs-version',
  'x-acs-date',
  'x-acs-signature-nonce',
  'x-acs-content-sha256',
] as const

function authenticateV3(
  request: IncomingApiRequest,
  authorization: string,
  credentials: ReadonlyMap<string, EmulatorCredential>,
  nonces: NonceMemory,
  now: number,
  timestampWindowMs: number,
): AuthenticatedCall {
  const parsed = parseV3Authorization(authorization)
  if (!parsed) throw EmulatorErrors.incompleteSignature('The Authorization header is malformed.')
  for (const name of V3_REQUIRED_HEADERS) {
    if (!request.headers[name]) throw EmulatorErrors.missingHeader(name)
  }
  const signed = new Set(parsed.signedHeaders)
  for (const name of Object.keys(request.headers)) {
    if ((name.startsWith('x-acs-') || name === 'host') && !signed.has(name)) {
      throw EmulatorErrors.incompleteSignature(`The header ${name} must be signed.`)
    }
  }
  const credential = credentials.get(parsed.accessKeyId)
  if (!credential) throw EmulatorErrors.accessKeyNotFound()
  if (
    credential.securityToken &&
    request.headers['x-acs-security-token'] !== credential.securityToken
  ) {
    throw EmulatorErrors.securityTokenInvalid()
  }
  checkTimestamp(request.headers['x-acs-date'] as string, now, timestampWindowMs)
  const bodyHash = sha256Hex(request.body)
  const canonicalRequest = canonicalRequestV3({
    method: request.method as 'GET' | 'POST',
    query: Object.fromEntries(request.url.searchParams),
    headers: request.headers,
    signedHeaders: parsed.signedHeaders,
    bodySha256Hex: request.headers['x-acs-content-sha256'] as string,
  })
  const stringToSign = stringToSignV3(canonicalRequest)
  const expected = signatureV3(stringToSign, credential.accessKeySecret)
  if (
    !safeEqual(expected, parsed.signature) ||
    bodyHash !== request.headers['x-acs-content-sha256']
  ) {
    throw EmulatorErrors.signatureDoesNotMatchV3(stringToSign)
  }
  if (!nonces.remember(request.headers['x-acs-signature-nonce'] as string, now)) {
    throw EmulatorErrors.nonceUsed()
  }
  const params = readParams(request)
  return {
    action: request.headers['x-acs-action'] as string,
    version: request.headers['x-acs-version'] as string,
    format: negotiateFormat(params, request.headers, 'v3'),
    params: actionParams(params),
    signatureVersion: 'v3',
    timestamp: request.headers['x-acs-date'] as string,
  }
}
