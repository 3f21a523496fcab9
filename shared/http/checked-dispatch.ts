import type * as Undici from 'undici'
import { undiciIfLoaded } from './undici-core.ts'

/**
 * Runs `check` at the last moment before a request is written to a socket — after any wait for
 * a free connection in the pool, immediately before undici writes the request line — and aborts
 * the request unsent when `check` returns an error. undici calls a handler's `onConnect` from
 * `writeH1` just before it writes; an abort there leaves not a byte on the wire.
 */
export function checkedDispatcher(
  inner: Undici.Dispatcher,
  check: () => Error | undefined,
): Undici.Dispatcher {
  if (!CheckedDispatcher) {
    const undici = undiciIfLoaded()
    if (!undici) throw new Error('checkedDispatcher needs undici loaded first (loadUndici())')
    CheckedDispatcher = checkedDispatcherClass(undici.DispatcherBase)
  }
  return new CheckedDispatcher(inner, check) as unknown as Undici.Dispatcher
}

type LegacyHandler = Record<string, ((...args: unknown[]) => unknown) | undefined>
type CheckedDispatcherClass = new (
  inner: Undici.Dispatcher,
  check: () => Error | undefined,
) => object

/** Made once undici is loaded: it extends undici's own Dispatcher (see undici-core.ts). */
let CheckedDispatcher: CheckedDispatcherClass | undefined

function checkedDispatcherClass(Base: new () => object): CheckedDispatcherClass {
  return class extends Base {
    constructor(
      private readonly inner: Undici.Dispatcher,
      private readonly check: () => Error | undefined,
    ) {
      super()
    }

    dispatch(options: Undici.Dispatcher.DispatchOptions, handler: LegacyHandler): boolean {
      return this.inner.dispatch(
        options,
        new CheckBeforeWrite(handler, this.check) as unknown as Undici.Dispatcher.DispatchHandler,
      )
    }

    close(): Promise<void> {
      return Promise.resolve()
    }

    destroy(): Promise<void> {
      return Promise.resolve()
    }
  }
}

/** The `request` API's handler (undici's legacy handler shape), with `onConnect` checked first. */
class CheckBeforeWrite {
  constructor(
    private readonly inner: LegacyHandler,
    private readonly check: () => Error | undefined,
  ) {}

  onConnect(abort: (error?: Error) => void, context?: unknown): unknown {
    const refusal = this.check()
    if (refusal) {
      abort(refusal)
      return undefined
    }
    return this.inner.onConnect?.(abort, context)
  }

  onUpgrade(...args: unknown[]): unknown {
    return this.inner.onUpgrade?.(...args)
  }

  onResponseStarted(...args: unknown[]): unknown {
    return this.inner.onResponseStarted?.(...args)
  }

  onHeaders(...args: unknown[]): unknown {
    return this.inner.onHeaders?.(...args)
  }

  onData(...args: unknown[]): unknown {
    return this.inner.onData?.(...args)
  }

  onComplete(...args: unknown[]): unknown {
    return this.inner.onComplete?.(...args)
  }

  onError(...args: unknown[]): unknown {
    return this.inner.onError?.(...args)
  }

  onBodySent(...args: unknown[]): unknown {
    return this.inner.onBodySent?.(...args)
  }

  onRequestSent(...args: unknown[]): unknown {
    return this.inner.onRequestSent?.(...args)
  }
}
