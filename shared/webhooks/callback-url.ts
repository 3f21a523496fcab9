import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { GatewayError } from '../errors.ts'
import { type AddressPolicy, addressPolicy, checkAddress } from './address-policy.ts'
import type { CallbackSettings } from './callback-settings.ts'

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
  if (isIP(host)) {
    // The caller gave the address: saying why it is refused tells it nothing new.
    const verdict = checkAddress(host, rules.policy)
    if (!verdict.allowed) {
      throw new CallbackUrlRefusedError(`callbackUrl is not allowed: ${verdict.reason}.`)
    }
    return
  }
  // A name: one answer whether it does not resolve, resolves to nothing, or to an address the
  // policy refuses — the caller must not learn what the gateway's resolver knows of internal names.
  let addresses: readonly string[] = []
  try {
    addresses = await rules.resolve(host)
  } catch {}
  if (addresses.length === 0 || addresses.some((a) => !checkAddress(a, rules.policy).allowed)) {
    throw new CallbackUrlRefusedError(
      `callbackUrl is not allowed: ${host} does not resolve only to addresses the gateway may call.`,
    )
  }
}

/** The submission-time callback URL check, with the configured policy and name resolution. */
export function callbackUrlChecker(
  callbacks: CallbackSettings,
  resolve: ResolveAll,
): (url: string) => Promise<void> {
  const rules = {
    policy: addressPolicy(callbacks),
    allowHttp: callbacks.allowHttp,
    resolve,
  }
  return (url) => checkCallbackUrl(url, rules)
}
