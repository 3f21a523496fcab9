import { type GatewayClient, GatewayProblemError, type Problem } from './index.ts'

/**
 * `domain-gateway`: the admin and operator CLI. Every command is one or a few calls of the typed
 * client. Exit codes: 0 done, 1 the gateway answered with a problem (4xx/5xx), 2 bad usage
 * (unknown command, missing option or key), 3 the gateway could not be reached, 4 a wait timed out.
 */
export const EXIT = { ok: 0, problem: 1, usage: 2, unreachable: 3, timeout: 4 } as const

export const SCOPES = ['ds:write', 'dns:write', 'sync:write', 'tasks:read'] as const

export interface CliIo {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
}

/** A command used wrongly (exit 2). */
export class UsageError extends Error {}

export interface GlobalOptions {
  url?: string
  profile: string
  key?: string
  adminKey?: string
  json?: boolean
}

/** The answer's data, or a `GatewayProblemError` carrying the problem+json the gateway sent. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const problem = (result.error ?? {}) as Partial<Problem>
    throw new GatewayProblemError({
      type: problem.type ?? 'about:blank',
      title: problem.title ?? result.response.statusText,
      status: problem.status ?? result.response.status,
      ...problem,
    })
  }
  return result.data as T
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  const cell = (value: unknown) =>
    value === undefined || value === null
      ? '-'
      : Array.isArray(value)
        ? value.join(',')
        : String(value)
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => cell(row[column]).length)),
  )
  const line = (values: string[]) =>
    values
      .map((value, index) => value.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd()
  return [
    line(columns),
    ...rows.map((row) => line(columns.map((column) => cell(row[column])))),
  ].join('\n')
}

export function fields(record: Record<string, unknown>, indent = ''): string {
  return Object.entries(record)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? `${indent}${name}:\n${fields(value as Record<string, unknown>, `${indent}  `)}`
        : `${indent}${name}: ${Array.isArray(value) ? JSON.stringify(value) : String(value)}`,
    )
    .join('\n')
}

/** What a group of commands is given: the typed client for a key, and one way to print. */
export interface CommandContext {
  readonly io: CliIo
  readonly client: (which: 'tenant' | 'admin') => GatewayClient
  /** Prints `data` as JSON with `--json`, else `text()`. */
  readonly print: (data: unknown, text: () => string) => void
}

/** The items of one page, or (`all`) of every page, following `nextCursor`. */
export async function collectPages<T>(
  all: boolean | undefined,
  page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
): Promise<T[]> {
  const items: T[] = []
  let cursor: string | undefined
  do {
    const next = await page(cursor)
    items.push(...next.items)
    cursor = next.nextCursor
  } while (all && cursor)
  return items
}
