import { createHash, createHmac } from 'node:crypto'
import { compareCodeUnits, percentEncode } from './percent-encode.ts'
import type { FlatParams } from './rpc-params.ts'
import type { Credentials, HttpMethod } from './signature-v1.ts'

export const V3_ALGORITHM = 'ACS3-HMAC-SHA256'

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Sorted, percent-encoded `name=value` pairs; empty values keep their `=`. */
export function canonicalQueryV3(query: FlatParams): string {
  return Object.keys(query)
    .sort(compareCodeUnits)
    .map((name) => `${percentEncode(name)}=${percentEncode(query[name] as string)}`)
    .join('&')
}

export interface CanonicalRequestV3Input {
  readonly method: HttpMethod
  readonly path?: string
  readonly query: FlatParams
  /** Lower-case header names to the values sent; only the signed ones are read. */
  readonly headers: Readonly<Record<string, string>>
  readonly signedHeaders: readonly string[]
  readonly bodySha256Hex: string
}

export function canonicalRequestV3(input: CanonicalRequestV3Input): string {
  const names = [...input.signedHeaders].map((name) => name.toLowerCase()).sort(compareCodeUnits)
  const canonicalHeaders = names
    .map((name) => `${name}:${(input.headers[name] ?? '').trim()}\n`)
    .join('')
  return [
    input.method,
    input.path ?? '/',
    canonicalQueryV3(input.query),
    canonicalHeaders,
    names.join(';'),
    input.bodySha256Hex,
  ].join('\n')
}

export function stringToSignV3(canonicalRequest: string): string {
  return `${V3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`
}

export function signatureV3(stringToSign: string, accessKeySecret: string): string {
  return createHmac('sha256', accessKeySecret).update(stringToSign, 'utf8').digest('hex')
}

export interface SignV3Input {
  readonly method: HttpMethod
  readonly host: string
  readonly action: string
  readonly version: string
  readonly query: FlatParams
  readonly body: string
  readonly contentType?: string | undefined
  readonly credentials: Credentials
  readonly nonce: string
  /** `YYYY-MM-DDThh:mm:ssZ` */
  readonly date: string
}

export interface SignedV3Request {
  /** Headers to send, `authorization` included. */
  readonly headers: Record<string, string>
  readonly canonicalRequest: string
  readonly stringToSign: string
}

/**
 * Signs a request with the V3 signature (ACS3-HMAC-SHA256). Every `x-acs-*` header, `host` and
 * `content-type` (when there is a body) are signed.
 */
export function signRequestV3(input: SignV3Input): SignedV3Request {
  const headers: Record<string, string> = {
    host: input.host,
    'x-acs-action': input.action,
    'x-acs-version': input.version,
    'x-acs-date': input.date,
    'x-acs-signature-nonce': input.nonce,
    'x-acs-content-sha256': sha256Hex(input.body),
  }
  if (input.contentType) headers['content-type'] = input.contentType
  if (input.credentials.securityToken) {
    headers['x-acs-security-token'] = input.credentials.securityToken
  }
  const signedHeaders = Object.keys(headers).sort(compareCodeUnits)
  const canonicalRequest = canonicalRequestV3({
    method: input.method,
    query: input.query,
    headers,
    signedHeaders,
    bodySha256Hex: headers['x-acs-content-sha256'] as string,
  })
  const stringToSign = stringToSignV3(canonicalRequest)
  const signature = signatureV3(stringToSign, input.credentials.accessKeySecret)
  headers.authorization = `${V3_ALGORITHM} Credential=${input.credentials.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${signature}`
  return { headers, canonicalRequest, stringToSign }
}

export interface ParsedV3Authorization {
  readonly accessKeyId: string
  readonly signedHeaders: readonly string[]
  readonly signature: string
}

/** Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`; undefined when malformed. */
export function parseV3Authorization(header: string): ParsedV3Authorization | undefined {
  const match = /^ACS3-HMAC-SHA256 +(.+)$/.exec(header.trim())
  if (!match) return undefined
  const fields = new Map<string, string>()
  for (const part of (match[1] as string).split(',')) {
    const eq = part.indexOf('=')
    if (eq <= 0) return undefined
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const accessKeyId = fields.get('Credential')
  const signedHeaders = fields.get('SignedHeaders')
  const signature = fields.get('Signature')
  if (!accessKeyId || !signedHeaders || !signature) return undefined
  return { accessKeyId, signedHeaders: signedHeaders.split(';'), signature }
}
