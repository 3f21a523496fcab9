/**
 * The registry's documented DS preconditions (Domain docs FAQ, "Configure DNS Security
 * Extensions"), checked before anything is sent where the gateway can know them: DS records only
 * for some TLDs (`DNSSEC_TLDS`, by default the documented list), and at most eight per domain.
 * The third rule — none while the domain's DNS is hosted on Alibaba Cloud DNS — needs the
 * registry's current name servers; the registry refuses it, and the failed task says why.
 */
export const DOCUMENTED_DS_TLDS = [
  'com',
  'net',
  'cc',
  'tv',
  'name',
  'info',
  'mobi',
  'pro',
  'xin',
  'biz',
  'club',
] as const

export const MAX_DS_RECORDS = 8

/** Why the registry would refuse a DS record for the domain, if the TLD rule says so. */
export function dsTldRefusal(domain: string, tlds: ReadonlySet<string>): string | undefined {
  const tld = domain.slice(domain.lastIndexOf('.') + 1).toLowerCase()
  if (tlds.has(tld)) return undefined
  return `The registry accepts DS records only for these TLDs: ${[...tlds].map((t) => `.${t}`).join(' ')}; .${tld} is not one of them (DNSSEC_TLDS).`
}
