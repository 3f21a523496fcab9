import type { ChangeDeps } from '../changes/change-request.ts'
import { queryServer } from '../dns/dns-client.ts'
import type { DnssecDeps } from '../dns/dnssec-service.ts'
import type { DnssecStateStore } from '../dns/dnssec-state.ts'
import { hostLookup, OVERRIDES_ONLY, serverLookup } from '../dns/name-servers.ts'
import type { PreflightDeps } from '../preflight/check-change.ts'
import type { PublicationDeps } from '../publication/follow-publication.ts'
import { addressPolicy } from '../webhooks/address-policy.ts'
import type { WorkerConfig } from './worker-env.ts'

const lookupOptions = (worker: WorkerConfig) => ({
  overrides: worker.dnssec.serverOverrides,
  policy: addressPolicy(worker.callbacks),
  ...(worker.dnssec.lookup === 'overrides' ? { resolver: OVERRIDES_ONLY } : {}),
})

/** The pre-flight check's wiring: the same lookups and queries as the scanner's. */
export function preflightDepsFor(
  worker: WorkerConfig,
  io: Pick<PreflightDeps, 'registryDs' | 'now'>,
): PreflightDeps {
  return {
    ...io,
    serversOfZone: serverLookup(lookupOptions(worker)),
    serversOfHosts: hostLookup(lookupOptions(worker)),
    query: (server, name, type, options) => queryServer(server, name, type, options),
    settings: worker.preflight,
  }
}

/** Following succeeded tasks at the parent zone: the scanner's lookups, the poller's stores. */
export function publicationDepsFor(
  worker: WorkerConfig,
  io: Omit<PublicationDeps, 'serversFor' | 'query' | 'settings'> & {
    readonly retentionMs: number
  },
): PublicationDeps {
  const { retentionMs, ...rest } = io
  return {
    ...rest,
    serversFor: serverLookup(lookupOptions(worker)),
    query: (server, name, type) => queryServer(server, name, type),
    settings: { ...worker.publication, retentionMs },
  }
}

/** The scanner's wiring: the change path, the enrolments, DNS lookups under the address policy. */
export function buildDnssecDeps(
  changes: ChangeDeps,
  dnssecStates: DnssecStateStore,
  worker: WorkerConfig,
): DnssecDeps {
  return {
    ...changes,
    dnssecStates,
    serversFor: serverLookup(lookupOptions(worker)),
    query: (server, name, type, options) => queryServer(server, name, type, options),
    dnssec: {
      stuckAfterMs: worker.dnssec.stuckAfterMs,
      bootstrapScans: worker.dnssec.bootstrapScans,
      trustAnchors: worker.dnssec.trustAnchors,
    },
  }
}
