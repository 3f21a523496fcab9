import type { z } from '@hono/zod-openapi'
import { type FieldIssue, RequestValidationError } from '#shared/errors.ts'

type Issue = z.core.$ZodIssue

/** Flattens zod issues to `{path, message}`; for a union, reports the branch that came closest. */
export function fieldIssues(
  issues: readonly Issue[],
  prefix: (string | number)[] = [],
): FieldIssue[] {
  const out: FieldIssue[] = []
  for (const issue of issues) {
    const path = [
      ...prefix,
      ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    ]
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0] as Issue[]
      out.push(...fieldIssues(closest, path))
      continue
    }
    out.push({ path: path.join('.') || '(body)', message: issue.message })
  }
  return out
}

/** Parses `input` with `schema` or throws a {@link RequestValidationError} naming `where`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issues = fieldIssues(result.error.issues, [where])
  throw new RequestValidationError(
    issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
    issues,
  )
}
