import type { ChangeDeps } from '../changes/change-request.ts'
import type { WorkerConfig } from '../config/worker-config.ts'
import { addressPolicy } from '../webhooks/address-policy.ts'
import { queryServer } from './dns-client.ts'
import type { DnssecDeps } from './dnssec-service.ts'
import type { DnssecStateStore } from './dnssec-state.ts'
import { serverLookup } from './name-servers.ts'

/** The scanner's wiring: the change path, the enrolments, DNS lookups under the address policy. */
export function buildDnssecDeps(
  changes: ChangeDeps,
  dnssecStates: DnssecStateStore,
  worker: WorkerConfig,
): DnssecDeps {
  return {
    ...changes,
    dnssecStates,
    serversFor: serverLookup({
      overrides: worker.dnssec.serverOverrides,
      policy: addressPolicy(worker.callbacks),
    }),
    query: (server, name, type, options) => queryServer(server, name, type, options),
    dnssec: {
      stuckAfterMs: worker.dnssec.stuckAfterMs,
      bootstrapScans: worker.dnssec.bootstrapScans,
      trustAnchors: worker.dnssec.trustAnchors,
    },
  }
}
