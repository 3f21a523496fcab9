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
/** Three more slow receivers of one tenant: together they could hold every lane. */
const slowMany = [new TestReceiver(), new TestReceiver(), new TestReceiver()]
beforeAll(async () => {
  await stack.start()
  for (const receiver of [slow, ...slowMany]) {
    await receiver.start()
    receiver.reply = () => ({ status: 204, delayMs: 20_000 })
  }
})
afterAll(async () => {
  for (const receiver of [slow, ...slowMany]) await receiver.stop()
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

it("one tenant's many slow receivers hold at most its share of the lanes: another tenant's callback is on time", async () => {
  // 48 callbacks to three slow endpoints of one tenant: 16 lanes per endpoint would take all 32.
  const keys = await Promise.all(
    slowMany.map((receiver) =>
      stack.newKey('slow-many', ['sync:write', 'tasks:read'], receiver.url),
    ),
  )
  const fastKey = (await stack.newKey('on-time', ['sync:write', 'tasks:read'], stack.receiver.url))
    .key
  for (const [index, slowKey] of keys.entries()) {
    for (let n = 0; n < 16; n++) {
      const answer = await call(
        stack,
        slowKey.key,
        'POST',
        `/domains/many-${index}-${n}.com/ds/sync`,
      )
      expect(answer.status).toBe(202)
    }
  }
  // The first test's receiver answers at once now: only this tenant's receivers are slow.
  slow.reply = () => ({ status: 204 })
  // Deliveries wait as long as the receivers take: a held lane stays held.
  const deps = stack.pollerDeps({ callbackTimeoutMs: 20_000 })
  // The slow tenant's callbacks take their lanes first, and hold them (their receivers answer
  // after 20 s; the run waits up to that long for each).
  const run = runPoller(deps, Date.now() + 15_000)
  // Until every lane the slow tenant may take is taken (its 48 callbacks are all due by then).
  const start = Date.now()
  while (Date.now() - start < 8_000) {
    const sending = (
      await stack.apiDeps.tasks.listByTenant('slow-many', {}, 100, undefined, Date.now())
    ).items.filter((task) => task.callback.state === 'sending').length
    if (sending >= 16) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await new Promise((resolve) => setTimeout(resolve, 500))
  const submittedAt = Date.now()
  const answer = await call(stack, fastKey, 'POST', '/domains/on-time.com/ds/sync')
  expect(answer.status).toBe(202)
  const id = String(answer.body.id)
  let calledBackAfter: number | undefined
  while (Date.now() - submittedAt < 12_000) {
    if (stack.receiver.received.some((request) => request.id === `msg_${id}`)) {
      calledBackAfter = Date.now() - submittedAt
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await run
  console.log(
    `slow receivers (48 callbacks, three endpoints, one tenant): the other tenant's callback arrived ${calledBackAfter} ms after submission`,
  )
  expect(calledBackAfter).toBeDefined()
  // With every lane open to one tenant it waits for the slow deliveries' 2-s timeouts to free one
  // (3–4 s here); with the tenant's share bounded it goes at once (0.2–0.3 s here).
  expect(calledBackAfter).toBeLessThan(2_500)
}, 60_000)
