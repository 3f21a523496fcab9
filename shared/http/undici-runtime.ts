// Loaded only through `loadUndici()` (see undici-core.ts), at the first outgoing request, so a
// cold start that serves no outgoing call does not evaluate undici at all.
import type * as Undici from 'undici'
import api from 'undici/lib/api/index.js'
import buildConnectorFunction from 'undici/lib/core/connect.js'
// The dispatcher core of undici only. The package's main entry also loads fetch, WebSocket,
// EventSource, caches, mocks and interceptors, which doubled the cold-start cost of every
// bundle (see BENCHMARKS.md). undici has no `exports` map, so these paths are public to Node;
// the version is pinned by the lockfile and every use is covered by tests.
import AgentClass from 'undici/lib/dispatcher/agent.js'
import DispatcherClass from 'undici/lib/dispatcher/dispatcher.js'
import PoolClass from 'undici/lib/dispatcher/pool.js'

// What undici's own index does: give every dispatcher `request`, `stream`, `pipeline`…
Object.assign(DispatcherClass.prototype, api)

export const Pool = PoolClass as typeof Undici.Pool
export const Agent = AgentClass as typeof Undici.Agent
export const buildConnector = buildConnectorFunction as typeof Undici.buildConnector
/** The base class of every dispatcher, for wrappers (see checked-dispatch.ts). */
export const DispatcherBase = DispatcherClass as unknown as new () => object
