import { afterEach, describe, expect, it } from 'vitest'
import { adversarialBehaviour, type ListOrder } from '#infra/emulator/behaviour.ts'
import { isTerminal } from '#shared/tasks/task.ts'
import { type Pipeline, QUICK_ABSENCE, QUICK_EMULATOR, startPipeline } from './helpers/pipeline.ts'

/**
 * The guarantee — a domain is changed at most once per accepted request, and no TaskNo is lost —
 * against a service that varies everything its documents leave open: each listing order, random
 * DS task-type names, a listing delay, a crowd of unrelated tasks, long and uneven task
 * durations. Keyed requests meet the emulator's documented faults for unknown outcomes (the
 * action ran and the answer was lost or replaced, or the request never arrived); the client
 * retries once with the same key. Every task must end carried out, with one registry task of its
 * own, and every registry task the requests made must belong to exactly one gateway task.
 */
const SAVE = 'SaveSingleTaskForSynchronizingDSRecord'
let p: Pipeline | undefined
afterEach(async () => {
  await p?.closeAll()
  p = undefined
})

async function runScenario(order: ListOrder): Promise<void> {
  p = await startPipeline({
    emulatorTaskMs: 40,
    emulator: {
      ...QUICK_EMULATOR,
      account: {
        behaviour: adversarialBehaviour(Math.random, {
          listOrder: order,
          listingDelayMs: 400,
          unrelatedTasks: 300,
        }),
      },
    },
  })
  const pipeline = p
  pipeline.emulator.faults.set([
    // The action ran; the answer was lost (5xx), replaced (a duplicate's SignatureNonceUsed), or
    // an unknown code came back.
    { kind: 'error5xx', rate: 0.15, actions: [SAVE] },
    { kind: 'duplicateDelivery', rate: 0.15, actions: [SAVE] },
    { kind: 'code', code: 'Some.NewCode', phase: 'after', rate: 0.1, actions: [SAVE] },
    // The request never arrived, or was refused with a code nothing documents.
    { kind: 'reset', phase: 'before', rate: 0.1, actions: [SAVE] },
    { kind: 'code', code: 'Another.NewCode', rate: 0.1, actions: [SAVE] },
  ])
  const domains = Array.from({ length: 15 }, (_, i) => `adv-${order}-${i}.com`)
  const requests = domains.flatMap((domain) =>
    [0, 1].map((n) => ({ domain, key: `${domain}-${n}` })),
  )
  // A 503 says nothing reached the registry (a refused or lost request, or a send window run out
  // on a loaded machine): the client sends the same request again, as the API tells it to.
  const send = async (domain: string, key: string) => {
    for (let attempt = 1; ; attempt++) {
      const answer = await pipeline.request(`/domains/${domain}/ds/sync`, {
        method: 'POST',
        key: pipeline.tenant.key,
        headers: { 'idempotency-key': key },
      })
      if (answer.status !== 503 || attempt === 5) return answer
      const problem = (await answer.json()) as { type?: string }
      expect(problem.type).toMatch(/not-submitted$/)
    }
  }
  const ids = new Set<string>()
  await Promise.all(
    requests.map(async ({ domain, key }) => {
      const first = await send(domain, key)
      expect([202, 409]).toContain(first.status)
      // The client retries once with the same key: the same task, never a second one.
      const again = await send(domain, key)
      expect([202, 409]).toContain(again.status)
      for (const answer of [first, again]) {
        if (answer.status === 202) ids.add(((await answer.json()) as { id: string }).id)
      }
    }),
  )
  expect(ids.size).toBe(requests.length)
  pipeline.emulator.faults.set([])
  const deps = pipeline.pollerDeps({}, QUICK_ABSENCE)
  await pipeline.drainUntil(
    async () =>
      (await Promise.all([...ids].map((id) => pipeline.task(id)))).every((task) =>
        isTerminal(task.status),
      ),
    { deps, timeoutMs: 60_000 },
  )
  const tasks = await Promise.all([...ids].map((id) => pipeline.task(id)))
  // Every accepted request carried out, none handed back as NotSubmitted.
  expect(tasks.map((task) => task.status).filter((status) => status !== 'succeeded')).toEqual([])
  // One registry task per gateway task, and no registry task that belongs to none (no orphan, no
  // domain changed twice).
  const owned = tasks.map((task) => task.upstream.taskNo)
  expect(new Set(owned).size).toBe(tasks.length)
  const made = [...pipeline.emulator.account.tasks.keys()]
  // On a mismatch, say what each registry task nobody owns and its domain's gateway tasks went through.
  const orphans = made.filter((taskNo) => !owned.includes(taskNo))
  const story = orphans.map((taskNo) => {
    const made = pipeline.emulator.account.tasks.get(taskNo)
    const domain = made && 'domain' in made.kind ? made.kind.domain : undefined
    const siblings = [...pipeline.emulator.account.tasks.values()]
      .filter((other) => 'domain' in other.kind && other.kind.domain === domain)
      .map((other) => ({
        taskNo: other.taskNo,
        createdAt: other.createdAt,
        request: other.request,
      }))
    return {
      orphan: { taskNo, createdAt: made?.createdAt, request: made?.request, domain },
      registryTasksOfDomain: siblings,
      gatewayTasksOfDomain: tasks.filter((task) => task.details.some((d) => d.target === domain)),
    }
  })
  expect(orphans, JSON.stringify(story, null, 1)).toEqual([])
  expect(new Set(made)).toEqual(new Set(owned))
}

describe('the guarantee against an adversarial service', () => {
  for (const order of ['oldest', 'newest', 'random'] as const) {
    it(`listing ${order === 'random' ? 'in random order' : `${order} first`}: no orphan, no double change, every accepted request carried out`, async () => {
      await runScenario(order)
    }, 90_000)
  }
})
