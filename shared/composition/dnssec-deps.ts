import type { ChangeDeps } from '../changes/change-request.ts'
import { queryServer } from '../dns/dns-client.ts'
import { hostLookup, OVERRIDES_ONLY, serverLookup } from '../dns/name-servers.ts'
import type { DnssecDeps } from '../dnssec-automation/dnssec-service.ts'
import type { DnssecStateStore } from '../dnssec-automation/dnssec-state.ts'
import type { PreflightDeps } from '../preflight/check-change.ts'
import type { PublicationDeps } from '../publication/follow-publication.ts'
import { addressPolicy } from '../webhooks/address-policy.ts'
import type { Settings } from './settings.ts'

/** The DNS sections of the settings. */
type DnsSettings = Pick<Settings, 'dnssec' | 'callbacks' | 'preflight' | 'publication'>

const lookupOptions = (settings: DnsSettings) => ({
  overrides: settings.dnssec.serverOverrides,
  policy: addressPolicy(settings.callbacks),
  ...(settings.dnssec.lookup === 'overrides' ? { resolver: OVERRIDES_ONLY } : {}),
})

/** The pre-flight check's wiring: the same lookups and queries as the scanner's. */
export function preflightDepsFor(
  settings: DnsSettings,
  io: Pick<PreflightDeps, 'registryDs' | 'now'>,
): PreflightDeps {
  return {
    ...io,
    serversOfZone: serverLookup(lookupOptions(settings)),
    serversOfHosts: hostLookup(lookupOptions(settings)),
    query: (server, name, type, options) => queryServer(server, name, type, options),
    settings: settings.preflight,
  }
}

/** Following succeeded tasks at the parent zone: the scanner's lookups, the poller's stores. */
export function publicationDepsFor(
  settings: DnsSettings,
  io: Omit<PublicationDeps, 'serversFor' | 'query' | 'settings'> & {
    readonly retentionMs: number
  },
): PublicationDeps {
  const { retentionMs, ...rest } = io
  return {
    ...rest,
    serversFor: serverLookup(lookupOptions(settings)),
    query: (server, name, type) => queryServer(server, name, type),
    settings: { ...settings.publication, retentionMs },
  }
}

/** The scanner's wiring: the change path, the enrolments, DNS lookups under the address policy. */
export function buildDnssecDeps(
  changes: ChangeDeps,
  dnssecStates: DnssecStateStore,
  settings: DnsSettings,
): DnssecDeps {
  return {
    ...changes,
    dnssecStates,
    serversFor: serverLookup(lookupOptions(settings)),
    query: (server, name, type, options) => queryServer(server, name, type, options),
    dnssec: {
      stuckAfterMs: settings.dnssec.stuckAfterMs,
      bootstrapScans: settings.dnssec.bootstrapScans,
      trustAnchors: settings.dnssec.trustAnchors,
    },
  }
}
