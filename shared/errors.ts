/**
 * The gateway's own errors. Each carries what the one HTTP error mapper needs; none carries a
 * secret or an internal detail in its message.
 */
export class GatewayError extends Error {
  override name = 'GatewayError'
}

export class NotFoundError extends GatewayError {
  override name = 'NotFoundError'
}

export class AuthenticationError extends GatewayError {
  override name = 'AuthenticationError'
}

export class PermissionError extends GatewayError {
  override name = 'PermissionError'
}

export interface FieldIssue {
  readonly path: string
  readonly message: string
}

export class RequestValidationError extends GatewayError {
  override name = 'RequestValidationError'
  constructor(
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message)
  }
}

/** The same Idempotency-Key is still being processed by its first request. */
export class IdempotencyInFlightError extends GatewayError {
  override name = 'IdempotencyInFlightError'
  constructor(readonly retryAfterSeconds: number) {
    super('A request with this Idempotency-Key is still being processed.')
  }
}

/** The Idempotency-Key was first used with a different request. */
export class IdempotencyKeyReuseError extends GatewayError {
  override name = 'IdempotencyKeyReuseError'
  constructor() {
    super('This Idempotency-Key was already used with a different request.')
  }
}

export class ConflictError extends GatewayError {
  override name = 'ConflictError'
}

/** Refuses with 409 unless a conditional write was made (the record changed since it was read). */
export function requireWritten(written: boolean, message: string): void {
  if (!written) throw new ConflictError(message)
}

/** The queue of a domain or instance is full: nothing was written. */
export class QueueFullError extends GatewayError {
  override name = 'QueueFullError'
  constructor(
    readonly target: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      `Too many tasks are waiting for ${target}; nothing was accepted. Retry after Retry-After.`,
    )
  }
}

/** The tenant has spent its requests of a kind for this minute: nothing was done. */
export class RateLimitedError extends GatewayError {
  override name = 'RateLimitedError'
  constructor(
    readonly retryAfterSeconds: number,
    readonly headers: Readonly<Record<string, string>>,
  ) {
    super(
      'This tenant has made too many requests of this kind this minute; nothing was done. Retry after Retry-After.',
    )
  }
}

export class UnsupportedMediaTypeError extends GatewayError {
  override name = 'UnsupportedMediaTypeError'
}

export class MalformedBodyError extends GatewayError {
  override name = 'MalformedBodyError'
}

/** The store could not be reached or failed (not a lost conditional write). */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError'
}
