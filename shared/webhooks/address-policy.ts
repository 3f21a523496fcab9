import ipaddr from 'ipaddr.js'

/**
 * Which addresses the gateway may dial for a callback. Only public unicast addresses by default;
 * loopback when `allowLoopback` (local mode); anything inside `allowlist` CIDRs; the cloud
 * metadata addresses never. IPv4-mapped, NAT64 and 6to4 IPv6 forms are judged by the IPv4 address
 * they carry.
 */
export interface AddressPolicy {
  readonly allowLoopback: boolean
  readonly allowlist: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[]
}

export const STRICT_POLICY: AddressPolicy = { allowLoopback: false, allowlist: [] }

/** AWS instance metadata (IPv4 and IPv6) and the ECS task metadata endpoint. */
const METADATA = ['169.254.169.254', 'fd00:ec2::254', '169.254.170.2', '169.254.170.23']

export type AddressVerdict =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: string }

/** The policy from configuration: loopback allowed or not, and CIDRs (or single addresses). */
export function addressPolicy(settings: {
  allowLoopback: boolean
  allowlist: readonly string[]
}): AddressPolicy {
  return { allowLoopback: settings.allowLoopback, allowlist: parseAllowlist(settings.allowlist) }
}

export function parseAllowlist(cidrs: readonly string[]): AddressPolicy['allowlist'] {
  return cidrs.map((cidr) => {
    try {
      return ipaddr.parseCIDR(cidr)
    } catch {
      // A single address counts as a /32 or /128.
      const address = ipaddr.parse(cidr)
      return [address, address.kind() === 'ipv4' ? 32 : 128] as const
    }
  })
}

function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range()
  if (range === 'ipv4Mapped') return address.toIPv4Address()
  const bytes = address.toByteArray()
  // NAT64 (64:ff9b::/96, RFC 6052): the last 32 bits.
  if (range === 'rfc6052') return new ipaddr.IPv4(bytes.slice(12, 16))
  // 6to4 (2002::/16): bits 16-47.
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6))
  // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291 but still routed by some stacks): the last
  // 32 bits, so `::127.0.0.1` and `::169.254.169.254` are judged as the addresses they name.
  // `::` and `::1` (unspecified, loopback) keep their own ranges.
  if (
    bytes.slice(0, 12).every((byte) => byte === 0) &&
    range !== 'unspecified' &&
    range !== 'loopback'
  ) {
    return new ipaddr.IPv4(bytes.slice(12, 16))
  }
  return undefined
}

function isMetadata(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return METADATA.some((metadata) => {
    const other = ipaddr.parse(metadata)
    return other.kind() === address.kind() && other.toString() === address.toString()
  })
}

function inAllowlist(address: ipaddr.IPv4 | ipaddr.IPv6, policy: AddressPolicy): boolean {
  return policy.allowlist.some(
    ([network, bits]) =>
      network.kind() === address.kind() && address.match([network, bits] as never),
  )
}

/** Judges one IP address (textual, IPv4 or IPv6, brackets allowed). */
export function checkAddress(text: string, policy: AddressPolicy): AddressVerdict {
  let address: ipaddr.IPv4 | ipaddr.IPv6
  try {
    address = ipaddr.parse(text.replace(/^\[|\]$/g, '').replace(/%.*$/, ''))
  } catch {
    return { allowed: false, reason: `${text} is not an IP address` }
  }
  if (address.kind() === 'ipv6') {
    const inner = embeddedIpv4(address as ipaddr.IPv6)
    if (inner) {
      const verdict = checkAddress(inner.toString(), policy)
      return verdict.allowed
        ? verdict
        : { allowed: false, reason: `${text} embeds ${verdict.reason}` }
    }
  }
  if (isMetadata(address)) return { allowed: false, reason: `${text} is a cloud metadata address` }
  if (inAllowlist(address, policy)) return { allowed: true }
  const range = address.range()
  if (range === 'unicast') return { allowed: true }
  if (range === 'loopback' && policy.allowLoopback) return { allowed: true }
  return { allowed: false, reason: `${text} is a ${range} address` }
}
