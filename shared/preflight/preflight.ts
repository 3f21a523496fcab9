import type { DesiredDs, DesiredNs } from '../changes/change.ts'
import { delegatedTo } from '../dns/name-servers.ts'
import { GatewayError } from '../errors.ts'
import type { ChangeSafety } from '../tasks/change-safety.ts'
import type { TaskCommand } from '../tasks/task.ts'
import { checkTargets, type PreflightDeps, type PreflightSettings } from './check-change.ts'
import { dsAfter } from './ds-after.ts'

/**
 * Safe by default: before a change is written or sent, its end state is checked against what the
 * zone's servers serve (see safety.ts). An `unsafe` change is refused with the evidence unless the
 * caller forces it; an `unverified` one as `PREFLIGHT_UNVERIFIED` says. A refusal writes nothing.
 */

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)

/** A change refused by its pre-flight check: 409, with the verdict and its evidence. */
export class UnsafeChangeError extends GatewayError {
  override name = 'UnsafeChangeError'
  constructor(readonly safety: ChangeSafety) {
    super(
      `${safety.verdict === 'unsafe' ? 'This change would leave the domain without a DS that validates what its servers serve' : 'The servers that will answer for the domain could not be checked'}; nothing was written or sent. ${capitalised(safety.reason)} Send "force": true (?force=true on DELETE) to carry it out anyway.`,
    )
  }
}

/** The check of a task command whose end state is known (DS add, modify, delete; a name-server batch). */
export async function preflightCommand(
  deps: PreflightDeps,
  command: TaskCommand,
): Promise<ChangeSafety | undefined> {
  switch (command.action) {
    case 'ds.add':
    case 'ds.modify':
    case 'ds.delete': {
      const after = async () => dsAfter(await deps.registryDs(command.domain), command) ?? []
      return checkTargets(deps, [{ domain: command.domain, dsAfter: after, servers: 'zone' }])
    }
    case 'dns.batch': {
      const hosts = delegatedTo(command, deps.settings.alibabaDnsServers)
      return checkTargets(
        deps,
        command.domains.map((domain) => ({
          domain,
          dsAfter: () => deps.registryDs(domain),
          servers: { hosts },
        })),
      )
    }
    default:
      // A sync pushes what the registry holds already: its end state is today's.
      return undefined
  }
}

/** The check of a desired state: the DS set it asks for, or the name servers it moves the domain to. */
export async function preflightDesired(
  deps: PreflightDeps,
  domain: string,
  desired:
    | { readonly kind: 'ds'; readonly desired: DesiredDs }
    | { readonly kind: 'name-servers'; readonly desired: DesiredNs },
): Promise<ChangeSafety> {
  if (desired.kind === 'ds') {
    const records = desired.desired.records
    return checkTargets(deps, [{ domain, dsAfter: async () => records, servers: 'zone' }])
  }
  const hosts = delegatedTo(desired.desired, deps.settings.alibabaDnsServers)
  return checkTargets(deps, [
    { domain, dsAfter: () => deps.registryDs(domain), servers: { hosts } },
  ])
}

/**
 * What the verdict lets happen: the safety to record, or {@link UnsafeChangeError}. `force`
 * carries out any verdict, and is recorded.
 */
export function decide(
  safety: ChangeSafety,
  force: boolean,
  settings: Pick<PreflightSettings, 'unverified'>,
): ChangeSafety {
  if (force) return { ...safety, forced: true }
  if (safety.verdict === 'unsafe') throw new UnsafeChangeError(safety)
  if (safety.verdict === 'unverified' && settings.unverified === 'refuse') {
    throw new UnsafeChangeError(safety)
  }
  return safety
}
