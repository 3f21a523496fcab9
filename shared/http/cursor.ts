import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'

/** A paging cursor that was not issued by this gateway for this caller, or was altered. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError'
}

const MAC_BYTES = 16

/**
 * Opaque, tamper-evident paging cursors: `base64url(position) "." base64url(HMAC)`, the MAC over
 * the caller's scope (its tenant) and the position, with a key derived from a secret the gateway
 * already holds. A cursor edited by hand, made up, or taken from another tenant is refused.
 */
export class CursorCodec {
  readonly #key: Buffer

  constructor(key: Buffer) {
    this.#key = key
  }

  /** A codec whose key is derived (HKDF-SHA256) from `secret`, for this purpose only. */
  static fromSecret(secret: string): CursorCodec {
    return new CursorCodec(
      Buffer.from(hkdfSync('sha256', secret, '', 'domain-gateway/paging-cursor/v1', 32)),
    )
  }

  /** A page's position for the next request, or none on the last page. */
  sealNext(scope: string, position: Record<string, unknown> | undefined): string | undefined {
    return position === undefined ? undefined : this.seal(scope, position)
  }

  /** The position a request's cursor stands for, or none for the first page. */
  openGiven(scope: string, cursor: string | undefined): Record<string, unknown> | undefined {
    return cursor === undefined ? undefined : this.open(scope, cursor)
  }

  seal(scope: string, position: Record<string, unknown>): string {
    const payload = Buffer.from(JSON.stringify(position)).toString('base64url')
    return `${payload}.${this.#mac(scope, payload).toString('base64url')}`
  }

  /** The position a cursor stands for; throws {@link InvalidCursorError} for any other cursor. */
  open(scope: string, cursor: string): Record<string, unknown> {
    const [payload, mac, extra] = cursor.split('.')
    if (!payload || !mac || extra !== undefined) throw invalid()
    const given = Buffer.from(mac, 'base64url')
    const expected = this.#mac(scope, payload)
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid()
    try {
      const position: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
      if (position && typeof position === 'object' && !Array.isArray(position)) {
        return position as Record<string, unknown>
      }
    } catch {}
    throw invalid()
  }

  #mac(scope: string, payload: string): Buffer {
    return createHmac('sha256', this.#key)
      .update(`${scope}\n${payload}`)
      .digest()
      .subarray(0, MAC_BYTES)
  }
}

const invalid = () => new InvalidCursorError('the cursor is not one this API returned')
