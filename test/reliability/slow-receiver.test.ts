import { afterAll, beforeAll, expect, it } from 'vitest'
import { runPoller } from '#shared/poller/run-poller.ts'
import { TestReceiver } from '../helpers/receiver.ts'
import { call, ReliabilityStack } from './stack.ts'

/**
 * One tenant's receiver takes 20 s to answer each callback (the gateway gives up after 2 s);
 * another tenant's tasks, submitted after it, must be seen finished and called back in the usual
 * few seconds — neither polling nor their deliveries wait for the slow endpoint.
 */
const stack = new ReliabilityStack()
const slow = new TestReceiver()
beforeAll(async () => {
  await stack.start()
  await slow.start()
  slow.reply = () => ({ status: 204, delayMs: 20_000 })
})
afterAll(async () => {
  await slow.stop()
  await stack.stop()
})

it('a slow receiver delays no other tenant', async () => {
  const slowKey = (await stack.newKey('slow', ['sync:write', 'tasks:read'], slow.url)).key
  const fastKey = (await stack.newKey('fast', ['sync:write', 'tasks:read'], stack.receiver.url)).key
  const submit = async (key: string, domain: string) => {
    const answer = await call(stack, key, 'POST', `/domains/${domain}/ds/sync`)
    expect(answer.status).toBe(202)
    return String(answer.body.id)
  }
  for (let index = 0; index < 16; index++) await submit(slowKey, `slow-${index}.com`)
  const submittedAt = Date.now()
  const ordinary = []
  for (let index = 0; index < 5; index++) ordinary.push(await submit(fastKey, `fast-${index}.com`))

  // One scheduled poller run, as on AWS: long, draining everything that falls due.
  const run = runPoller(stack.pollerDeps(), Date.now() + 12_000)
  let calledBackAfter: number | undefined
  while (Date.now() - submittedAt < 12_000) {
    const delivered = ordinary.filter((id) =>
      stack.receiver.received.some((request) => request.id === `msg_${id}`),
    )
    if (delivered.length === ordinary.length) {
      calledBackAfter = Date.now() - submittedAt
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await run
  console.log(
    `slow receiver: the other tenant's 5 callbacks arrived ${calledBackAfter} ms after submission`,
  )
  expect(calledBackAfter).toBeDefined()
  // The emulator's tasks take 100 ms; polls come at 30/60/100 ms. Seconds, not tens of seconds.
  expect(calledBackAfter).toBeLessThan(5_000)
})
