import { createHash } from 'node:crypto'
import type { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import {
  MalformedBodyError,
  RequestValidationError,
  UnsupportedMediaTypeError,
} from '#shared/errors.ts'
import type { StoredAnswer } from '#shared/tasks/task.ts'
import { IdempotencyKeyHeaderSchema } from '../schemas/common-schemas.ts'
import type { AppEnv } from './context.ts'
import { parseOrThrow } from './validate.ts'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/**
 * Reads a JSON body. An empty body is `{}` when the body is optional; any body must be declared
 * `application/json`.
 */
export async function readJsonBody(
  c: Context<AppEnv>,
  options: { optional: boolean },
): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') {
    if (options.optional) return {}
    throw new RequestValidationError('A JSON body is required.', [
      { path: 'body', message: 'is required' },
    ])
  }
  if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) {
    throw new UnsupportedMediaTypeError('Send the body as application/json.')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new MalformedBodyError('The body is not valid JSON.')
  }
}

export function idempotencyKeyOf(c: Context<AppEnv>): string | undefined {
  const value = c.req.header('idempotency-key')
  if (value === undefined) return undefined
  return parseOrThrow(IdempotencyKeyHeaderSchema, value, 'header.Idempotency-Key')
}

/** JSON with sorted keys, so equal requests hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export function requestHash(parts: unknown): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex')
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): StoredAnswer {
  return { status, body, headers: { 'content-type': 'application/json', ...headers } }
}

export function toResponse(
  stored: StoredAnswer,
  extraHeaders: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(stored.body), {
    status: stored.status,
    headers: { ...stored.headers, ...extraHeaders },
  })
}

/**
 * The request's JSON body parsed with `schema`: 422 naming each field, 400 for JSON that does not
 * parse, 415 for another media type (see readJsonBody).
 */
export async function jsonBody<S extends z.ZodType>(
  c: Context<AppEnv>,
  schema: S,
  options: { optional: boolean } = { optional: false },
): Promise<z.output<S>> {
  return parseOrThrow(schema, await readJsonBody(c, options), 'body')
}
