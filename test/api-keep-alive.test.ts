import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createApp } from '#functions/api/app.ts'
import { type Harness, startHarness } from './helpers/gateway.ts'

let h: Harness
let server: ReturnType<typeof serve>
let url: string

beforeAll(async () => {
  h = await startHarness()
  server = serve({ fetch: createApp(h.deps).fetch, port: 0, hostname: '127.0.0.1' })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await h.close()
})

it('a 413 closes its connection, so the next request on the same keep-alive pool succeeds', async () => {
  // One connection: the second request can only go out on the socket the first one used, or on
  // a new one if the server said it would close.
  const agent = new Agent({ connections: 1, keepAliveTimeout: 10_000 })
  try {
    const tooLarge = await request(`${url}/dns-batch`, {
      method: 'POST',
      dispatcher: agent,
      headers: { authorization: `Bearer ${h.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ domains: ['a.com'], aliyunDns: true, pad: 'x'.repeat(2_600_000) }),
    })
    expect(tooLarge.statusCode).toBe(413)
    expect(tooLarge.headers.connection).toBe('close')
    expect(await tooLarge.body.json()).toMatchObject({ type: '/docs#problem-payload-too-large' })

    const next = await request(`${url}/healthz`, { dispatcher: agent })
    expect(next.statusCode).toBe(200)
    expect(await next.body.json()).toEqual({ status: 'ok' })
  } finally {
    await agent.close()
  }
})
