import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Hono } from 'hono'
import * as z from 'zod'
import { ACTIONS } from './actions.ts'
import {
  authenticate,
  type EmulatorCredential,
  NonceMemory,
  negotiateFormat,
  TIMESTAMP_TOLERANCE_MS,
} from './authenticate.ts'
import { type AccountOptions, DomainAccount } from './domain-account.ts'
import { EmulatorError, EmulatorErrors } from './emulator-error.ts'
import { FaultInjector, type FaultRuleInput, FaultRuleSchema, type FiredFault } from './faults.ts'
import { contentTypeOf, type ResponseFormat, renderBody } from './render.ts'

export const SUPPORTED_VERSIONS = ['2018-01-29', '2017-12-18'] as const

export interface EmulatorOptions {
  readonly credentials: readonly EmulatorCredential[]
  readonly account?: Partial<AccountOptions>
  readonly faults?: readonly FaultRuleInput[]
  readonly versions?: readonly string[]
  /** How far a signed Timestamp may be from the emulator's clock at arrival (default 15 min). */
  readonly timestampWindowMs?: number
  readonly now?: () => number
  readonly random?: () => number
  readonly newId?: () => string
}

export interface Emulator {
  readonly app: Hono<{ Bindings: NodeBindings }>
  readonly account: DomainAccount
  readonly faults: FaultInjector
  readonly nonces: NonceMemory
}

/** What @hono/node-server passes as `env`: the raw request, for connection-level faults. */
interface NodeBindings {
  readonly incoming?: IncomingMessage
}

const DnsHostsSchema = z.array(
  z.object({ dnsName: z.string().min(1), ips: z.array(z.string().min(1)).min(1) }),
)

/**
 * The Alibaba Cloud Domain API emulator: one RPC endpoint at `/` that verifies signatures and
 * answers like the real service, plus an unsigned control surface under `/__emulator/`.
 */
export function createEmulator(options: EmulatorOptions): Emulator {
  const now = options.now ?? Date.now
  const newId = options.newId ?? randomUUID
  const credentials = new Map(
    options.credentials.map((credential) => [credential.accessKeyId, credential]),
  )
  const versions = new Set(options.versions ?? SUPPORTED_VERSIONS)
  const account = new DomainAccount(options.account ?? {}, newId)
  // The adversarial profile's crowd: unrelated tasks already in the account today.
  account.seedUnrelated(now())
  const faults = new FaultInjector(options.faults, options.random)
  const nonces = new NonceMemory()
  const timestampWindowMs = options.timestampWindowMs ?? TIMESTAMP_TOLERANCE_MS
  const app = new Hono<{ Bindings: NodeBindings }>()

  app.get('/__emulator/state', (c) => c.json(account.snapshot(now())))
  app.get('/__emulator/faults', (c) => c.json(faults.list()))
  app.put('/__emulator/faults', async (c) => {
    const rules = z.array(FaultRuleSchema).safeParse(await c.req.json().catch(() => undefined))
    if (!rules.success) return c.json({ error: z.prettifyError(rules.error) }, 400)
    faults.set(rules.data)
    return c.json(faults.list())
  })
  app.delete('/__emulator/faults', (c) => {
    faults.set([])
    return c.json([])
  })
  app.put('/__emulator/instances/:instanceId/dns-hosts', async (c) => {
    const hosts = DnsHostsSchema.safeParse(await c.req.json().catch(() => undefined))
    if (!hosts.success) return c.json({ error: z.prettifyError(hosts.error) }, 400)
    account.dnsHosts.set(c.req.param('instanceId'), hosts.data)
    return c.json(hosts.data)
  })

  app.all('*', async (c) => {
    const requestId = newId().toUpperCase()
    const hostId = c.req.header('host') ?? 'domain.aliyuncs.com'
    const url = new URL(c.req.url)
    const body = c.req.method === 'POST' ? await c.req.text() : ''
    const headers = Object.fromEntries(c.req.raw.headers)
    let format = guessFormat(url, body, headers)
    let action: string | undefined

    const respond = (status: number, root: string, payload: object) =>
      new Response(renderBody(format, root, payload), {
        status,
        headers: {
          'content-type': contentTypeOf(format),
          'x-acs-request-id': requestId,
          // The emulator's own clock, from which a client measures its skew.
          date: new Date(now()).toUTCString(),
        },
      })
    const respondError = (error: EmulatorError) =>
      respond(error.httpStatus, 'Error', {
        RequestId: requestId,
        HostId: hostId,
        Code: error.code,
        Message: error.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(error.code)}&product=Domain&requestId=${requestId}`,
      })

    try {
      if (url.pathname !== '/') throw EmulatorErrors.actionNotFound()
      const before = faults.draw(actionNamedIn(url, headers, body), 'before')
      // Latency is time on the wire: the request arrives, and is judged, only after it.
      for (const fault of before) if (fault.kind === 'latency') await delay(fault.ms)
      const arrivedAt = now()
      const call = authenticate(
        { method: c.req.method, url, headers, body },
        credentials,
        nonces,
        arrivedAt,
        timestampWindowMs,
      )
      format = call.format
      action = call.action
      const early = await applyFaults(before.filter((fault) => fault.kind !== 'latency'))
      if (early) return early
      if (!versions.has(call.version)) throw EmulatorErrors.versionInvalid()
      const handler = ACTIONS[call.action]
      if (!handler) throw EmulatorErrors.actionNotFound()
      const result = handler(call.params, {
        account,
        now: now(),
        clientIp: call.params.UserClientIp ?? '127.0.0.1',
        request: { timestamp: call.timestamp, arrivedAt },
      })
      const root = `${call.action}Response`
      const payload = { RequestId: requestId, ...result }
      const late = await applyFaults(
        faults.draw(action, 'after'),
        renderBody(format, root, payload),
      )
      if (late) return late
      return respond(200, root, payload)
    } catch (error) {
      if (error instanceof EmulatorError) return respondError(error)
      throw error
    }

    async function applyFaults(
      fired: readonly FiredFault[],
      answer = '',
    ): Promise<Response | undefined> {
      for (const fault of fired) {
        switch (fault.kind) {
          case 'latency':
            await delay(fault.ms)
            break
          case 'throttle':
            return respondError(EmulatorErrors.throttling())
          case 'unavailable':
            return respondError(EmulatorErrors.serviceUnavailable())
          case 'networkIoError':
            return respondError(EmulatorErrors.networkIoError())
          case 'error5xx':
            return respondError(
              new EmulatorError(
                'InternalError',
                fault.status,
                EmulatorErrors.internalError().message,
              ),
            )
          case 'code':
            return respondError(
              new EmulatorError(
                fault.code,
                fault.status,
                `The request was refused (${fault.code}).`,
              ),
            )
          case 'duplicateDelivery':
            return respondError(EmulatorErrors.nonceUsed())
          case 'error5xxEmpty':
            return new Response(null, { status: fault.status })
          case 'reset':
            resetConnection(c.env?.incoming)
            return new Response(null, { status: 500 })
          case 'malformed':
            return new Response(`{"RequestId":"${requestId}","TaskNo":`, {
              status: 200,
              headers: { 'content-type': contentTypeOf('JSON') },
            })
          case 'slowBody':
            return slowResponse(answer, fault.ms, contentTypeOf(format))
        }
      }
      return undefined
    }
  })

  return { app, account, faults, nonces }
}

/** The action a request names, read before it is authenticated (to pick its faults). */
function actionNamedIn(
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: string,
): string | undefined {
  return (
    headers['x-acs-action'] ??
    url.searchParams.get('Action') ??
    new URLSearchParams(body).get('Action') ??
    undefined
  )
}

/** The format of an answer given before the request is authenticated (an early error). */
function guessFormat(
  url: URL,
  body: string,
  headers: Readonly<Record<string, string>>,
): ResponseFormat {
  const given = url.searchParams.get('Format') ?? new URLSearchParams(body).get('Format')
  const params: Record<string, string> =
    given === null ? {} : { Format: given.toUpperCase() === 'JSON' ? 'JSON' : 'XML' }
  const v3 = (headers.authorization ?? '').startsWith('ACS3-')
  return negotiateFormat(params, headers, v3 ? 'v3' : 'v1')
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Sends a TCP reset instead of an answer. Needs a real listener (not `app.request`). */
function resetConnection(incoming: IncomingMessage | undefined): void {
  const socket = incoming?.socket
  if (!socket) throw new Error('the reset fault needs a real HTTP listener')
  socket.resetAndDestroy()
}

/** Sends the first half of the body, pauses, then the rest. */
function slowResponse(text: string, pauseMs: number, contentType: string): Response {
  const bytes = new TextEncoder().encode(text)
  const half = Math.floor(bytes.length / 2)
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(bytes.slice(0, half))
      await delay(pauseMs)
      controller.enqueue(bytes.slice(half))
      controller.close()
    },
  })
  return new Response(stream, { status: 200, headers: { 'content-type': contentType } })
}
