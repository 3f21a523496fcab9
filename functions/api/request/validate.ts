import type { z } from '@hono/zod-openapi'
import { type FieldIssue, RequestValidationError } from '#shared/errors.ts'

type Issue = z.core.$ZodIssue

/** How far a branch of a union is from the input: each unknown key counts, as each issue does. */
const distanceOf = (issues: readonly Issue[]) =>
  issues.reduce(
    (sum, issue) => sum + (issue.code === 'unrecognized_keys' ? issue.keys.length : 1),
    0,
  )

const isMissing = (issue: Issue) =>
  issue.code === 'invalid_type' && /received undefined$/.test(issue.message)

/** Edit distance with adjacent transpositions (optimal string alignment), case-insensitive. */
function editDistance(a: string, b: string): number {
  const [s, t] = [a.toLowerCase(), b.toLowerCase()]
  const d = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      const row = d[i] as number[]
      const above = d[i - 1] as number[]
      row[j] = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      )
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1)
      }
    }
  }
  return (d[s.length] as number[])[t.length] as number
}

/** The known key an unknown one was probably meant to be, if one is close enough. */
function meant(key: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; distance: number } | undefined
  for (const name of candidates) {
    if (name === key) continue
    const distance = editDistance(key, name)
    if (
      distance <= Math.min(2, Math.floor(name.length / 3)) &&
      (!best || distance < best.distance)
    ) {
      best = { name, distance }
    }
  }
  return best?.name
}

/** The keys an object schema (or a union of them) accepts at its top level. */
function keysOf(schema: z.ZodType): Set<string> {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def
  if (def.type === 'object') return new Set(Object.keys(def.shape as object))
  if (def.type === 'union') {
    return new Set((def.options as z.ZodType[]).flatMap((option) => [...keysOf(option)]))
  }
  if (def.type === 'pipe') return keysOf(def.in as z.ZodType)
  return new Set()
}

/**
 * Flattens zod issues to `{path, message}`. For a union, reports the branch that came closest
 * (fewest issues, each unknown key counted). An unknown key close to a missing or known one
 * says which was meant ("did you mean `digestType`?") and stands for the missing key's issue.
 */
export function fieldIssues(
  issues: readonly Issue[],
  prefix: (string | number)[] = [],
  known: ReadonlySet<string> = new Set(),
): FieldIssue[] {
  const out: FieldIssue[] = []
  const explained = new Set<string>()
  const pathOf = (issue: Issue) => [
    ...prefix,
    ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
  ]
  for (const issue of issues) {
    const path = pathOf(issue)
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const closest = [...issue.errors].sort((a, b) => distanceOf(a) - distanceOf(b))[0] as Issue[]
      out.push(...fieldIssues(closest, path, issue.path.length === 0 ? known : new Set()))
      continue
    }
    if (issue.code === 'unrecognized_keys') {
      const here = issue.path.join('.')
      const missing = issues
        .filter((other) => isMissing(other) && other.path.slice(0, -1).join('.') === here)
        .map((other) => String(other.path.at(-1)))
      const unexplained: string[] = []
      for (const key of issue.keys) {
        const name =
          meant(key, missing) ?? (issue.path.length === 0 ? meant(key, known) : undefined)
        if (name === undefined) {
          unexplained.push(key)
          continue
        }
        if (missing.includes(name)) explained.add([...path, name].join('.'))
        out.push({
          path: [...path, key].join('.'),
          message: `unknown field; did you mean "${name}"?`,
        })
      }
      if (unexplained.length > 0) {
        out.push({
          path: path.join('.') || '(body)',
          message: `Unrecognized key${unexplained.length > 1 ? 's' : ''}: ${unexplained.map((key) => `"${key}"`).join(', ')}`,
        })
      }
      continue
    }
    out.push({ path: path.join('.') || '(body)', message: issue.message })
  }
  return out.filter((issue) => !explained.has(issue.path))
}

/** Parses `input` with `schema` or throws a {@link RequestValidationError} naming `where`. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  const issues = fieldIssues(result.error.issues, [where], keysOf(schema))
  throw new RequestValidationError(
    issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
    issues,
  )
}
