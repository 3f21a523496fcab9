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
 * The checks that need no name resolution — a URL, `https` (or `http` where allowed), no
 * credentials —, made wherever a callback URL enters and again before every delivery, so a URL
 * stored before a policy change cannot get past it. Undefined when the URL passes.
 */
export function staticCallbackUrlProblem(url: string, allowHttp: boolean): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'callbackUrl is not a URL.'
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && allowHttp)) {
    return 'callbackUrl must use https.'
  }
  if (parsed.username || parsed.password) return 'callbackUrl must not contain credentials.'
  return undefined
}

/**
 * Checks a callback URL wherever it enters (a submission, an API key, the scheduled syncs'
 * setting): {@link staticCallbackUrlProblem}, then every address its host resolves to. The same
 * address policy is enforced again on the address actually dialled at delivery.
 */
export async function checkCallbackUrl(url: string, rules: CallbackUrlRules): Promise<void> {
  const problem = staticCallbackUrlProblem(url, rules.allowHttp)
  if (problem) throw new CallbackUrlRefusedError(problem)
  const parsed = new URL(url)
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
