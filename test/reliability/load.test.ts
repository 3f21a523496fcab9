import { afterAll, beforeAll, expect, it } from 'vitest'
import { runPoller } from '#shared/poller/run-poller.ts'
import { isTerminal } from '#shared/tasks/task.ts'
import { SHA256_DIGEST } from '../helpers/emulator.ts'
import { call, ReliabilityStack, RUN_SECONDS } from './stack.ts'

/**
 * A sustained, self-stopping load on loopback mixing every route, with the poller draining at the
 * same time. Afterwards every accepted task is accounted for: in the store, finished, called back
 * once, and matched one-to-one with the emulator's upstream tasks.
 */
const stack = new ReliabilityStack()
let key = ''
beforeAll(async () => {
  await stack.start()
  key = (
    await stack.newKey(
      'load',
      ['ds:write', 'dns:write', 'sync:write', 'tasks:read'],
      stack.receiver.url,
    )
  ).key
})
afterAll(() => stack.stop())

const WORKERS = 16
const MAX_REQUESTS = 200 * RUN_SECONDS * 2
/** The run, then its drain: judged on liveness (see below); this only bounds a stuck test. */
const TEST_TIMEOUT_MS = (RUN_SECONDS * 8 + 240) * 1000

it(
  `${RUN_SECONDS} s of mixed load: zero 5xx, no lost and no duplicate upstream tasks`,
  async () => {
    const accepted = new Set<string>()
    const changes = new Set<string>()
    let queued = 0
    const statuses = new Map<number, number>()
    let requests = 0
    let sequence = 0
    const started = Date.now()
    const deadline = started + RUN_SECONDS * 1000
    // A few hot domains get many submissions at once: those wait in the domain's queue.
    const domain = () =>
      Math.random() < 0.1
        ? `hot-${Math.floor(Math.random() * 5)}.com`
        : `load-${Math.floor(Math.random() * 3000)}.com`
    const KEYS = [1, 2, 3].map((n) => ({
      keyTag: 40_000 + n,
      algorithm: 13,
      digestType: 2,
      digest: String(n).repeat(64),
    }))

    async function submit(method: string, path: string, body: unknown) {
      const idempotencyKey = `load-${++sequence}`
      for (let attempt = 0; attempt < 20; attempt++) {
        const answer = await call(stack, key, method, path, body, {
          'idempotency-key': idempotencyKey,
        })
        requests++
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        if (answer.status === 202 && Array.isArray(answer.body.steps)) {
          // A desired-state change: its steps are tasks like any other.
          changes.add(String(answer.body.id))
          for (const step of answer.body.steps) accepted.add(String(step))
        } else if (answer.status === 202) {
          accepted.add(String(answer.body.id))
          if (answer.body.status === 'queued') queued++
        }
        // Retry only what the API says is worth retrying: the same key, so never twice upstream.
        if (answer.status !== 409 || answer.body.title !== 'Idempotency key in use') return
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }

    async function read(path: string, expected: number[]) {
      const answer = await call(stack, key, 'GET', path)
      requests++
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
      expect(expected, `${path} → ${answer.status}`).toContain(answer.status)
    }

    async function worker() {
      while (Date.now() < deadline && requests < MAX_REQUESTS) {
        const dice = Math.random()
        if (dice < 0.3)
          await submit('POST', `/domains/${domain()}/ds`, {
            keyTag: Math.floor(Math.random() * 65_536),
            algorithm: 13,
            digestType: 2,
            digest: SHA256_DIGEST,
          })
        else if (dice < 0.4)
          await submit(
            'DELETE',
            `/domains/${domain()}/ds/${Math.floor(Math.random() * 100)}`,
            undefined,
          )
        else if (dice < 0.55) await submit('POST', `/domains/${domain()}/ds/sync`, undefined)
        else if (dice < 0.6)
          await submit('POST', '/dns-batch', {
            domains: [domain(), `batch-${sequence}.net`],
            aliyunDns: true,
          })
        else if (dice < 0.65)
          await submit(
            'POST',
            `/instances/S${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}/dns-hosts/sync`,
            undefined,
          )
        else if (dice < 0.72)
          // A desired DS set (one or two of three keys) for one of a few domains: changes
          // queue behind each other and behind the domain's other tasks.
          await submit('PUT', `/domains/desired-${Math.floor(Math.random() * 16)}.com/ds`, {
            records: KEYS.filter(() => Math.random() < 0.5).slice(0, 2),
            allowEmpty: true,
          })
        else if (dice < 0.8) await read('/tasks?limit=5', [200])
        else if (dice < 0.88)
          await read(
            `/tasks/${[...accepted][Math.floor(Math.random() * accepted.size)] ?? 'tsk_none000000000000'}`,
            [200, 404],
          )
        else if (dice < 0.95) await read(`/domains/${domain()}/ds`, [200])
        else await read('/domains/not..a..domain/ds', [422])
      }
    }

    // A burst on one domain first: whatever the run's length, some tasks wait in a queue.
    await Promise.all(
      [1, 2, 3].map(() => submit('POST', '/domains/hot-burst.com/ds/sync', undefined)),
    )
    let loading = true
    const pollers = (async () => {
      const deps = stack.pollerDeps()
      while (loading) await runPoller(deps, Date.now() + 1_000)
    })()
    await Promise.all(Array.from({ length: WORKERS }, worker))
    loading = false
    await pollers

    // Drain: every accepted task finished and called back.
    const deps = stack.pollerDeps()
    // Liveness, not speed: the drain goes on while tasks keep finishing (under CPU pressure it is
    // slow, and a faster API accepts more work in the same run), and fails once none has finished
    // for a minute or the test's own time runs short.
    const drainDeadline = started + TEST_TIMEOUT_MS - 90_000
    let pending = [...accepted]
    let lastProgress = Date.now()
    // Reads a few at a time: a read of every open task at once would crowd out the poller itself.
    const readAll = async (ids: readonly string[]) => {
      const found = []
      for (let i = 0; i < ids.length; i += 16) {
        found.push(
          ...(await Promise.all(
            ids.slice(i, i + 16).map((id) => stack.apiDeps.tasks.get(id, Date.now())),
          )),
        )
      }
      return found
    }
    let runs = 0
    while (pending.length > 0 && Date.now() - lastProgress < 60_000 && Date.now() < drainDeadline) {
      const stats = await runPoller(deps, Date.now() + 2_000)
      if (++runs % 10 === 0)
        console.log(`drain: ${pending.length} open; last run ${JSON.stringify(stats)}`)
      const tasks = await readAll(pending)
      const before = pending.length
      pending = pending.filter((_, index) => {
        const task = tasks[index]
        return !task || !isTerminal(task.status) || task.callback.state !== 'delivered'
      })
      if (pending.length < before) lastProgress = Date.now()
    }
    // Every change finished, once.
    let open = [...changes]
    while (open.length > 0 && Date.now() < drainDeadline + 30_000) {
      await runPoller(deps, Date.now() + 500)
      const running: string[] = []
      for (const id of open) {
        if ((await stack.apiDeps.changes.get(id, Date.now()))?.status === 'running')
          running.push(id)
      }
      open = running
    }
    const fiveHundreds = [...statuses].filter(([status]) => status >= 500)
    console.log(
      `load: ${requests} requests in ${RUN_SECONDS} s (${Math.round(requests / RUN_SECONDS)}/s), ${accepted.size} tasks accepted (${queued} queued at acceptance), ${changes.size} changes; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    )
    expect(fiveHundreds).toEqual([])
    // What a task still open is waiting for, should one be.
    const explainPending = await Promise.all(
      pending.map(async (id) => {
        const task = await stack.apiDeps.tasks.get(id, Date.now())
        const targets = await Promise.all(
          (task?.details ?? []).map((detail) => stack.apiDeps.targetLocks.read(detail.target)),
        )
        return `${id} ${task?.action} ${task?.status} due ${task?.dueAt ? task.dueAt - Date.now() : '-'} ms queue ${JSON.stringify(task?.queue)} after ${JSON.stringify(task?.after)} callback ${task?.callback.state} targets ${JSON.stringify(targets)}`
      }),
    )
    if (explainPending.length > 0) {
      // What the poller sees first in the due index, and why it would skip it.
      const now = Date.now()
      const seen: Record<string, number> = {}
      for (let shard = 0; shard < stack.apiDeps.tasks.shardCount; shard++) {
        for (const { kind: due, id } of await stack.apiDeps.tasks.dueItems(shard, now, 100)) {
          const item =
            due === 'task'
              ? await stack.apiDeps.tasks.get(id, now)
              : due === 'change'
                ? await stack.apiDeps.changes.get(id, now)
                : due === 'event'
                  ? await stack.apiDeps.events.get(id, now)
                  : undefined
          const kind = !item
            ? due === 'publication'
              ? 'a publication watch'
              : 'gone'
            : item.dueAt === undefined
              ? 'not-due'
              : item.dueAt > now
                ? 'due-later'
                : item.lease && item.lease.until > now
                  ? 'leased'
                  : `due ${due} ${(item as { status?: string }).status ?? ''}`
          seen[kind] = (seen[kind] ?? 0) + 1
        }
      }
      console.log(`due index head: ${JSON.stringify(seen)}`)
      // The log of the oldest open tasks: what was last done with them.
      for (const id of pending.slice(0, 3)) {
        console.log(`item ${id}: ${JSON.stringify(await stack.apiDeps.tasks.get(id, Date.now()))}`)
        const lines = stack.logLines.filter((line) => line.includes(id)).slice(-8)
        console.log(`log of ${id}:\n${lines.join('\n')}`)
      }
    }
    expect(explainPending).toEqual([])
    expect(open).toEqual([])
    expect(queued).toBeGreaterThan(0)
    expect(changes.size).toBeGreaterThan(0)

    const tasks = await Promise.all(
      [...accepted].map((id) => stack.apiDeps.tasks.get(id, Date.now())),
    )
    // A step after a failed step of its change is never sent; every other task was, once.
    const unsent = tasks.filter((task) => task?.error?.code === 'ChangeStopped')
    const taskNos = tasks
      .filter((task) => task?.error?.code !== 'ChangeStopped')
      .map((task) => task?.upstream.taskNo)
    expect(taskNos.every(Boolean)).toBe(true)
    expect(new Set(taskNos).size).toBe(taskNos.length)
    for (const task of unsent) expect(task?.upstream.taskNo).toBeUndefined()
    // The emulator holds exactly the accepted tasks: none lost, none submitted twice.
    expect(new Set(stack.emulator.account.tasks.keys())).toEqual(new Set(taskNos))
    const counts = stack.receiver.countsById()
    for (const id of accepted) expect(counts.get(`msg_${id}`), id).toBe(1)
    for (const id of changes) expect(counts.get(`msg_evt_${id.slice(4)}`), id).toBe(1)
    expect(stack.leakedSecrets()).toEqual([])
  },
  TEST_TIMEOUT_MS,
)
