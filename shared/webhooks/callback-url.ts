import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { GatewayError } from '../errors.ts'
import { type AddressPolicy, checkAddress } from './address-policy.ts'

/** A callback URL the gateway refuses to call. */
export class CallbackUrlRefusedError extends GatewayError {
  override name = 'CallbackUrlRefusedError'
}

export type ResolveAll = (hostname: string) => Promise<readonly string[]>

export const resolveWithDns: ResolveAll = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address)

export interface CallbackUrlRules {
  readonly policy: AddressPolicy
  readonly allowHttp: boolean
  readonly resolve: ResolveAll
}

/**
 * Checks a callback URL when it is submitted: the scheme, no credentials, and every address its
 * host resolves to. The same policy is enforced again on the address actually dialled.
 */
export async function checkCallbackUrl(url: string, rules: CallbackUrlRules): Promise<void> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CallbackUrlRefusedError('callbackUrl is not a URL.')
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && rules.allowHttp)) {
    throw new CallbackUrlRefusedError('callbackUrl must use https.')
  }
  if (parsed.username || parsed.password) {
    throw new CallbackUrlRefusedError('callbackUrl must not contain credentials.')
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  let addresses: readonly string[]
  if (isIP(host)) {
    addresses = [host]
  } else {
    try {
      addresses = await rules.resolve(host)
    } catch {
      throw new CallbackUrlRefusedError(`callbackUrl host ${host} cannot be resolved.`)
    }
  }
  if (addresses.length === 0)
    throw new CallbackUrlRefusedError(`callbackUrl host ${host} has no address.`)
  for (const address of addresses) {
    const verdict = checkAddress(address, rules.policy)
    if (!verdict.allowed) {
      throw new CallbackUrlRefusedError(`callbackUrl is not allowed: ${verdict.reason}.`)
    }
  }
}
