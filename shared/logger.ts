export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

/** Field names whose values are never logged. */
const SECRET_FIELD = /secret|password|authorization|api[-_]?key|token|signature|credential|cookie/i
/** Values that look like secrets this gateway issues or handles, wherever they appear. */
const SECRET_VALUE = /(dgw_[A-Za-z0-9_-]{8,}|whsec_[A-Za-z0-9+/=]{8,}|Bearer\s+\S+)/g

/**
 * Access key ids inside text: a StringToSign echoed by `SignatureDoesNotMatch` holds the gateway's
 * `AccessKeyId=LTAI…` (percent-encoded once or twice), a V3 one `Credential=LTAI…`.
 */
const ACCESS_KEY_ID_IN_TEXT = /(AccessKeyId(?:=|%3D|%253D)|Credential=)[A-Za-z0-9._-]+/g

/** Replaces secrets in a value about to be logged. Exported for tests. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return value.replace(SECRET_VALUE, '[redacted]').replace(ACCESS_KEY_ID_IN_TEXT, '$1[redacted]')
  }
  if (value instanceof Error) {
    return redact(
      { name: value.name, message: value.message, code: (value as { code?: unknown }).code },
      depth,
    )
  }
  if (value === null || typeof value !== 'object' || depth > 6) return value
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_FIELD.test(key) ? '[redacted]' : redact(inner, depth + 1)
  }
  return out
}

/**
 * Fields every line carries during one invocation (a Lambda's request id, cold start, trace id).
 * A Lambda environment runs one invocation at a time, so one module-level set is exact.
 */
let invocationFields: Readonly<Record<string, unknown>> = {}

/** Replaces the invocation's fields (see `functions/invocation.ts`). */
export function setInvocationFields(fields: Readonly<Record<string, unknown>>): void {
  invocationFields = fields
}

export interface LoggerOptions {
  readonly level?: LogLevel
  readonly write?: (line: string) => void
  readonly now?: () => number
}

/** Structured JSON logs, one object per line, secrets redacted. */
export function createLogger(
  options: LoggerOptions = {},
  base: Record<string, unknown> = {},
): Logger {
  const threshold = LEVELS[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const now = options.now ?? Date.now
  const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return
    const entry = {
      time: new Date(now()).toISOString(),
      level,
      msg,
      ...invocationFields,
      ...base,
      ...fields,
    }
    write(JSON.stringify(redact(entry)))
  }
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  }
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ write: () => {} })
