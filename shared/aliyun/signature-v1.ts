import { createHmac } from 'node:crypto'
import { compareCodeUnits, percentEncode } from './percent-encode.ts'
import type { FlatParams } from './rpc-params.ts'

export type HttpMethod = 'GET' | 'POST'

/**
 * The canonicalized query string of RPC signature version 1.0: every parameter except
 * `Signature`, sorted by name, each name and value percent-encoded, joined with `&`.
 */
export function canonicalizeParams(params: FlatParams): string {
  return Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort(compareCodeUnits)
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name] as string)}`)
    .join('&')
}

/** `METHOD&%2F&enc(canonicalized)`: the query string is deliberately encoded a second time. */
export function stringToSignV1(method: HttpMethod, params: FlatParams): string {
  return `${method}&${percentEncode('/')}&${percentEncode(canonicalizeParams(params))}`
}

/** base64(HMAC-SHA1(secret + "&", stringToSign)). */
export function signatureV1(stringToSign: string, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign, 'utf8').digest('base64')
}

/** Formats an instant as the RPC `Timestamp`: `YYYY-MM-DDThh:mm:ssZ`, UTC, no milliseconds. */
export function formatRpcTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19)}Z`
}

export interface Credentials {
  readonly accessKeyId: string
  readonly accessKeySecret: string
  /** Present only with temporary (STS) credentials. */
  readonly securityToken?: string | undefined
}

export interface SignV1Input {
  readonly method: HttpMethod
  readonly action: string
  readonly version: string
  /** Action parameters, already flattened. */
  readonly params: FlatParams
  readonly credentials: Credentials
  readonly nonce: string
  readonly timestamp: string
  readonly format?: 'JSON' | 'XML'
}

export interface SignedRpcRequest {
  /** All parameters including `Signature`. */
  readonly params: FlatParams
  readonly stringToSign: string
  /** `name=value&...` percent-encoded, `Signature` last: the query string (GET) or form body (POST). */
  readonly encoded: string
}

/**
 * Adds the common parameters and the version 1.0 signature to an RPC request.
 * Pure: the nonce and timestamp come in, so tests can fix them.
 */
export function signRpcRequestV1(input: SignV1Input): SignedRpcRequest {
  const params: FlatParams = {
    Action: input.action,
    Format: input.format ?? 'JSON',
    Timestamp: input.timestamp,
    Version: input.version,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: input.nonce,
    AccessKeyId: input.credentials.accessKeyId,
    ...(input.credentials.securityToken ? { SecurityToken: input.credentials.securityToken } : {}),
    ...input.params,
  }
  const canonical = canonicalizeParams(params)
  const stringToSign = `${input.method}&%2F&${percentEncode(canonical)}`
  const signature = signatureV1(stringToSign, input.credentials.accessKeySecret)
  const encoded = `${canonical}&Signature=${percentEncode(signature)}`
  return { params: { ...params, Signature: signature }, stringToSign, encoded }
}
