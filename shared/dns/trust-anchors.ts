import type { TrustAnchor } from './chain-of-trust.ts'
import { DIGEST_HEX_LENGTH } from './dnskey.ts'
import { canonicalName } from './dnssec-records.ts'

/** The root zone's key-signing keys as IANA publishes them (root-anchors.xml): KSK-2017, KSK-2024. */
export const ROOT_TRUST_ANCHORS: readonly string[] = [
  '. IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D',
  '. IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16',
]

const PATTERN = /^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?DS\s+(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-fA-F\s]+)$/i

/** A trust anchor in zone-file form, `<zone> [TTL] [IN] DS <key tag> <algorithm> <digest type> <hex>`; undefined if it is not one. */
export function parseTrustAnchor(text: string): TrustAnchor | undefined {
  const match = PATTERN.exec(text.trim())
  if (!match) return undefined
  const [, zone, keyTag, algorithm, digestType, hex] = match as unknown as string[]
  const digest = (hex as string).replace(/\s+/g, '').toLowerCase()
  if (digest.length !== DIGEST_HEX_LENGTH[Number(digestType)] || Number(keyTag) > 65_535) {
    return undefined
  }
  return {
    zone: canonicalName(zone as string),
    ds: {
      keyTag: Number(keyTag),
      algorithm: Number(algorithm),
      digestType: Number(digestType),
      digest,
    },
  }
}
