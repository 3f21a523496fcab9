import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createEmulator, type Emulator, type EmulatorOptions } from './app.ts'

export interface RunningEmulator extends Emulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  close(): Promise<void>
}

/** Starts the emulator on a real HTTP listener (port 0 picks a free one). */
export function startEmulator(
  options: EmulatorOptions & { port?: number; host?: string },
): Promise<RunningEmulator> {
  const emulator = createEmulator(options)
  const host = options.host ?? '127.0.0.1'
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: emulator.app.fetch, port: options.port ?? 0, hostname: host },
      (info: AddressInfo) => {
        resolve({
          ...emulator,
          url: `http://${host}:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done())
              if ('closeAllConnections' in server) server.closeAllConnections()
            }),
        })
      },
    )
    server.once('error', reject)
  })
}
