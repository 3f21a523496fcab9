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
export type Pool = Undici.Pool
export const Agent = AgentClass as typeof Undici.Agent
export type Agent = Undici.Agent
export const buildConnector = buildConnectorFunction as typeof Undici.buildConnector
export type Dispatcher = Undici.Dispatcher
export type ResponseData = Undici.Dispatcher.ResponseData

export type RequestOptions = Omit<
  Undici.Dispatcher.RequestOptions,
  'origin' | 'path' | 'method'
> & {
  readonly method: Undici.Dispatcher.HttpMethod
  readonly dispatcher: Undici.Dispatcher
}

/** `undici.request(url, options)`, sent through the given dispatcher. */
export function request(
  url: string | URL,
  options: RequestOptions,
): Promise<Undici.Dispatcher.ResponseData> {
  const target = typeof url === 'string' ? new URL(url) : url
  const { dispatcher, ...rest } = options
  return dispatcher.request({
    ...rest,
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
  })
}
