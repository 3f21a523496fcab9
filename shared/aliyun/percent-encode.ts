/**
 * Percent-encodes a string as the Alibaba Cloud POP signers do (RFC 3986 unreserved set):
 * `A-Z a-z 0-9 - _ . ~` stay, everything else becomes `%XY` of its UTF-8 bytes, upper-case hex.
 * Space is `%20` (never `+`), `*` is `%2A`.
 *
 * @example percentEncode("a b*c~") // "a%20b%2Ac~"
 */
export function percentEncode(value: string): string {
  // Most names and values need no escaping at all: skip the work for them.
  if (UNRESERVED_ONLY.test(value)) return value
  // encodeURIComponent leaves ! ' ( ) * alone; RFC 3986 reserves them.
  return encodeURIComponent(value).replace(/[!'()*]/g, escapeReservedChar)
}

const UNRESERVED_ONLY = /^[A-Za-z0-9_.~-]*$/

function escapeReservedChar(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase()}`
}

/** Compares two strings by UTF-16 code units, the order the official SDKs sort parameter names in. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
