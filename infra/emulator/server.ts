import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createEmulator, type Emulator, type EmulatorOptions } from './app.ts'
import { DsPublication, type RunningParentZone, startParentZone } from './dns-parent.ts'

export interface RunningEmulator extends Emulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** The parent zone over DNS, when asked for: the DS sets its tasks set, published late. */
  readonly parentZone?: { readonly port: number; readonly publication: DsPublication }
  close(): Promise<void>
}

export interface ParentZoneSettings {
  /** UDP and TCP port on the emulator's host (0: any free one). */
  readonly port?: number
  readonly publishDelayMs: number
  readonly dsTtlSeconds: number
}

/** Starts the emulator on a real HTTP listener (port 0 picks a free one), and the parent zone. */
export async function startEmulator(
  options: EmulatorOptions & { port?: number; host?: string; parentZone?: ParentZoneSettings },
): Promise<RunningEmulator> {
  const emulator = createEmulator(options)
  const host = options.host ?? '127.0.0.1'
  const now = options.now ?? Date.now
  let dns: { zone: RunningParentZone; publication: DsPublication } | undefined
  if (options.parentZone) {
    const publication = new DsPublication({
      publishDelayMs: options.parentZone.publishDelayMs,
      dsTtlSeconds: options.parentZone.dsTtlSeconds,
      now,
      // Tasks settle when the registry is next looked at: look before answering.
      beforeServe: () => emulator.account.advance(now()),
      nameServersOf: (domain) => {
        try {
          emulator.account.assertRegistered(domain)
        } catch {
          return []
        }
        return emulator.account.nameServersOf(domain)
      },
    })
    emulator.account.onDsChanged = (domain, records, at) => publication.record(domain, records, at)
    emulator.account.onNameServersChanged = (domain, nameServers, at, before) =>
      publication.recordNameServers(domain, nameServers, at, before)
    dns = {
      publication,
      zone: await startParentZone(publication, { port: options.parentZone.port, host }),
    }
  }
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: emulator.app.fetch, port: options.port ?? 0, hostname: host },
      (info: AddressInfo) => {
        resolve({
          ...emulator,
          url: `http://${host}:${info.port}`,
          ...(dns ? { parentZone: { port: dns.zone.port, publication: dns.publication } } : {}),
          close: async () => {
            await dns?.zone.close()
            await new Promise<void>((done) => {
              server.close(() => done())
              if ('closeAllConnections' in server) server.closeAllConnections()
            })
          },
        })
      },
    )
    server.once('error', reject)
  })
}
