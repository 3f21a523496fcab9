import type * as Undici from 'undici'

export type Pool = Undici.Pool
export type Agent = Undici.Agent
export type Dispatcher = Undici.Dispatcher
export type ResponseData = Undici.Dispatcher.ResponseData

type Runtime = typeof import('./undici-runtime.ts')
let runtime: Promise<Runtime> | undefined

/**
 * undici's dispatcher core (Pool, Agent, buildConnector), loaded at the first call and kept. It
 * is a quarter of the API bundle and ~20–30 ms of module evaluation, which a cold start serving
 * a read, a key check or the docs does not need; the bundler keeps it in the same file but
 * evaluates it only here (see BENCHMARKS.md, cold start).
 */
export function loadUndici(): Promise<Runtime> {
  runtime ??= import('./undici-runtime.ts').then((module) => {
    loaded = module
    return module
  })
  return runtime
}

let loaded: Runtime | undefined

/** undici's core once `loadUndici()` has resolved, else undefined: the hot path need not await. */
export function undiciIfLoaded(): Runtime | undefined {
  return loaded
}

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
