import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns'
import { isIP, type Socket } from 'node:net'
import type { buildConnector as BuildConnector } from 'undici'
import { type Agent, loadUndici } from '../http/undici-core.ts'
import { type AddressPolicy, checkAddress } from './address-policy.ts'

/** The address a callback would dial is not allowed (SSRF guard, checked at connect time). */
export class BlockedAddressError extends Error {
  override name = 'BlockedAddressError'
  readonly code = 'ERR_CALLBACK_ADDRESS_BLOCKED'
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void

/** A DNS lookup that refuses a host if any address it resolves to is not allowed. */
export function guardedLookup(
  policy: AddressPolicy,
  lookup: Lookup = dnsLookup as unknown as Lookup,
): Lookup {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, result) => {
      if (error) return callback(error, [])
      const addresses = result as LookupAddress[]
      for (const entry of addresses) {
        const verdict = checkAddress(entry.address, policy)
        if (!verdict.allowed)
          return callback(new BlockedAddressError(`${hostname}: ${verdict.reason}`), [])
      }
      if (options.all) return callback(null, addresses)
      const first = addresses[0]
      if (!first) return callback(new BlockedAddressError(`${hostname} has no address`), [])
      callback(null, first.address, first.family)
    })
  }
}

/**
 * An undici Agent for callbacks that only connects to allowed addresses: host names are checked
 * on every resolution (DNS rebinding), IP literals before connecting, and the socket's actual
 * peer after connecting.
 */
export async function createGuardedAgent(
  policy: AddressPolicy,
  options: { connectTimeoutMs?: number; lookup?: Lookup } = {},
): Promise<Agent> {
  const { Agent, buildConnector } = await loadUndici()
  const connector = buildConnector({
    timeout: options.connectTimeoutMs ?? 5_000,
    lookup: guardedLookup(policy, options.lookup) as never,
  } as BuildConnector.BuildOptions)
  const connect: BuildConnector.connector = (connectOptions, callback) => {
    const host = connectOptions.hostname.replace(/^\[|\]$/g, '')
    if (isIP(host)) {
      const verdict = checkAddress(host, policy)
      if (!verdict.allowed) return callback(new BlockedAddressError(verdict.reason), null)
    }
    connector(connectOptions, (error, socket) => {
      if (error || !socket) return callback(error ?? new Error('no socket'), null)
      const peer = (socket as Socket).remoteAddress
      const verdict = peer
        ? checkAddress(peer, policy)
        : { allowed: false as const, reason: 'no peer address' }
      if (!verdict.allowed) {
        socket.destroy()
        return callback(new BlockedAddressError(verdict.reason), null)
      }
      callback(null, socket)
    })
  }
  return new Agent({ connect, keepAliveTimeout: 4_000, connections: 64 })
}
