import { domainToASCII } from 'node:url'

/** The longest name the DNS allows, in presentation form without the trailing dot. */
export const MAX_DOMAIN_LENGTH = 253
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/
/** Punycode labels (`xn--`) are fine; other labels with `--` in positions 3-4 are reserved. */
const RESERVED_HYPHENS = /^..--/

export type NormalizedName = { ok: true; value: string } | { ok: false; reason: string }

/**
 * Normalises a domain or host name as the registry expects it: trimmed, one trailing dot
 * removed, IDN converted to punycode (IDNA/UTS 46), lower-case; then checked: 2+ labels,
 * each 1-63 letters, digits or hyphens, not starting or ending with a hyphen, 253 characters
 * at most, a top-level label that is not all digits.
 *
 * @example normalizeDomainName('Bücher.DE.') // { ok: true, value: 'xn--bcher-kva.de' }
 */
export function normalizeDomainName(input: string): NormalizedName {
  const trimmed = input.trim().replace(/\.$/, '')
  if (trimmed === '') return { ok: false, reason: 'is empty' }
  if (/[\s/\\@:?#]/.test(trimmed))
    return { ok: false, reason: 'contains characters a domain name cannot have' }
  // Checked first: URL host parsing would read an all-numeric name as an IPv4 address.
  if (/(^|\.)\d+$/.test(trimmed)) return { ok: false, reason: 'has an all-numeric top-level label' }
  const ascii = domainToASCII(trimmed).toLowerCase()
  if (ascii === '') return { ok: false, reason: 'is not a valid internationalised domain name' }
  if (ascii.length > MAX_DOMAIN_LENGTH) {
    return { ok: false, reason: `is longer than ${MAX_DOMAIN_LENGTH} characters` }
  }
  // Again after normalisation: IDNA maps full-width digits (`１２３`) to ASCII ones.
  if (/(^|\.)\d+$/.test(ascii)) return { ok: false, reason: 'has an all-numeric top-level label' }
  const labels = ascii.split('.')
  if (labels.length < 2)
    return { ok: false, reason: 'needs at least two labels (name and top-level domain)' }
  for (const label of labels) {
    if (label.length === 0) return { ok: false, reason: 'has an empty label' }
    if (label.length > 63) return { ok: false, reason: `has a label longer than 63 characters` }
    if (!LABEL.test(label)) {
      return {
        ok: false,
        reason: `has an invalid label "${label}" (letters, digits and inner hyphens only)`,
      }
    }
    if (RESERVED_HYPHENS.test(label) && !label.startsWith('xn--')) {
      return {
        ok: false,
        reason: `has a label "${label}" with reserved hyphens in positions 3 and 4`,
      }
    }
  }
  return { ok: true, value: ascii }
}

/**
 * Alibaba instance ids look like `ST2017120814571100001303` or, in the docs' own examples,
 * `S20179H1BBI9test`: an `S`, then 10 to 40 letters or digits.
 */
export const INSTANCE_ID_PATTERN = /^S[A-Za-z0-9]{10,40}$/
