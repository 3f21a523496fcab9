import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as z from 'zod'
import {
  adversarialBehaviour,
  DOCUMENTED_BEHAVIOUR,
  type ListOrder,
} from '#infra/emulator/behaviour.ts'
import type { RunningEmulator } from '#infra/emulator/server.ts'
import type { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import { DOCUMENTED_TASK_TYPES } from '#shared/tasks/upstream-search.ts'
import { clientFor, ManualClock, SHA256_DIGEST, startTestEmulator } from './helpers/emulator.ts'
import { upstreamRejection } from './helpers/rejection.ts'

const TASK_MS = 1_000
let clock: ManualClock
let emulator: RunningEmulator
let client: DomainApiClient

beforeEach(async () => {
  clock = new ManualClock()
  // These tests pin the documented profile; the adversarial one is tested below.
  emulator = await startTestEmulator({
    now: clock.now,
    account: { taskMs: TASK_MS, behaviour: DOCUMENTED_BEHAVIOUR },
  })
  client = clientFor(emulator, {}, { now: clock.now })
})
afterEach(() => emulator.close())

const record = (keyTag: number, digest = SHA256_DIGEST) => ({
  keyTag,
  algorithm: 13,
  digestType: 2,
  digest,
})

async function statusOf(taskNo: string) {
  const details = await client.queryAllTaskDetails({ taskNo })
  return details.map((detail) => detail.status)
}

const rejection = upstreamRejection

describe('emulator tasks', () => {
  it('progress WAITING_EXECUTE → EXECUTING → EXECUTE_SUCCESS on the configured schedule', async () => {
    const { taskNo } = await client.addDsRecord({ domainName: 'example.com', ...record(1) })
    expect(await statusOf(taskNo)).toEqual(['WAITING_EXECUTE'])
    clock.advance(TASK_MS / 2)
    expect(await statusOf(taskNo)).toEqual(['EXECUTING'])
    clock.advance(TASK_MS / 2)
    expect(await statusOf(taskNo)).toEqual(['EXECUTE_SUCCESS'])
  })

  it('keep add, modify, delete and QueryDSRecord in agreement', async () => {
    const domainName = 'dnssec-example.com'
    const done = () => clock.advance(TASK_MS)
    await client.addDsRecord({ domainName, ...record(100) })
    done()
    await client.addDsRecord({ domainName, ...record(200) })
    done()
    expect((await client.queryDsRecord({ domainName })).records.map((r) => r.keyTag)).toEqual([
      100, 200,
    ])
    const newDigest = 'a'.repeat(64)
    await client.modifyDsRecord({ domainName, ...record(100, newDigest) })
    done()
    await client.deleteDsRecord({ domainName, keyTag: 200 })
    done()
    expect((await client.queryDsRecord({ domainName })).records).toEqual([record(100, newDigest)])
  })

  it('fail a task that cannot apply, with ErrorMsg, and leave the records alone', async () => {
    const { taskNo } = await client.deleteDsRecord({ domainName: 'example.com', keyTag: 9 })
    clock.advance(TASK_MS)
    const [detail] = await client.queryAllTaskDetails({ taskNo })
    expect(detail?.status).toBe('EXECUTE_FAILURE')
    expect(detail?.errorMessage).toContain('key tag 9')
  })

  it('fail every task of a domain matching the failure pattern', async () => {
    const { taskNo } = await client.syncDsRecord({ domainName: 'fail-registry.com' })
    clock.advance(TASK_MS)
    expect(await statusOf(taskNo)).toEqual(['EXECUTE_FAILURE'])
  })

  it('answer TaskIsBeingProcessed while another task runs on the domain', async () => {
    await client.syncDsRecord({ domainName: 'busy.com' })
    const error = await rejection(client.addDsRecord({ domainName: 'busy.com', ...record(1) }))
    expect(error.code).toBe('TaskIsBeingProcessed')
    expect(error.retryability).toBe('final')
    clock.advance(TASK_MS)
    await expect(
      client.addDsRecord({ domainName: 'busy.com', ...record(1) }),
    ).resolves.toHaveProperty('taskNo')
  })

  it('answer DomainNotExist for the documented pattern', async () => {
    const error = await rejection(client.syncDsRecord({ domainName: 'unregistered-shop.com' }))
    expect(error).toMatchObject({ code: 'DomainNotExist', httpStatus: 400, retryability: 'final' })
  })

  it('give a batch task one detail per domain, each with its own outcome, paged like the service', async () => {
    const domainNames = Array.from({ length: 25 }, (_, i) =>
      i % 5 === 0 ? `fail-${i}.com` : `ok-${i}.com`,
    )
    const { taskNo } = await client.modifyDomainDnsBatch({
      domainNames,
      aliyunDns: false,
      nameServers: ['ns1.example.net', 'ns2.example.net'],
    })
    clock.advance(TASK_MS)
    const first = await client.queryTaskDetailList({ taskNo, pageNum: 1, pageSize: 10 })
    expect(first).toMatchObject({ totalItems: 25, totalPages: 3, hasNextPage: true })
    expect(first.details).toHaveLength(10)
    const last = await client.queryTaskDetailList({ taskNo, pageNum: 3, pageSize: 10 })
    expect(last.details).toHaveLength(5)
    expect(last.hasNextPage).toBe(false)
    const all = await client.queryAllTaskDetails({ taskNo, pageSize: 7 })
    expect(all.map((detail) => detail.domainName)).toEqual(domainNames)
    expect(all.filter((detail) => detail.status === 'EXECUTE_FAILURE')).toHaveLength(5)
    const failed = await client.queryTaskDetailList({ taskNo, taskStatus: 3 })
    expect(failed.details.map((d) => d.domainName)).toEqual([
      'fail-0.com',
      'fail-5.com',
      'fail-10.com',
      'fail-15.com',
      'fail-20.com',
    ])
    const one = await client.queryTaskDetailList({ taskNo, domainName: 'ok-1.com' })
    expect(one.details).toHaveLength(1)
    const state = (await (await fetch(`${emulator.url}/__emulator/state`)).json()) as {
      nameServers: Record<string, string[]>
    }
    expect(state.nameServers['ok-1.com']).toEqual(['ns1.example.net', 'ns2.example.net'])
    expect(state.nameServers['fail-0.com']).toBeUndefined()
  })

  it('list tasks by creation window with QueryTaskList, newest first', async () => {
    const start = clock.now()
    const a = await client.syncDsRecord({ domainName: 'a.com' })
    clock.advance(60_000)
    const b = await client.syncDsRecord({ domainName: 'b.com' })
    const both = await client.queryTaskList({ beginCreateTime: start, endCreateTime: clock.now() })
    expect(both.tasks.map((task) => task.taskNo)).toEqual([b.taskNo, a.taskNo])
    expect(both.tasks[0]?.taskType).toBe('SYNC_DS_RECORD')
    // The service filters by day only: a bound stands for its whole day (UTC+8), so a window of
    // one millisecond still lists both tasks of that day.
    const sameDay = await client.queryTaskList({ beginCreateTime: start, endCreateTime: start + 1 })
    expect(sameDay.tasks.map((task) => task.taskNo)).toEqual([b.taskNo, a.taskNo])
    const dayBefore = await client.queryTaskList({
      beginCreateTime: start - 2 * 86_400_000,
      endCreateTime: start - 86_400_000 - 8 * 3_600_000 - 1,
    })
    expect(dayBefore.tasks).toEqual([])
  })

  it('synchronise DNS hosts per instance and read them back', async () => {
    const instanceId = 'ST2017120814571100001303'
    await fetch(`${emulator.url}/__emulator/instances/${instanceId}/dns-hosts`, {
      method: 'PUT',
      body: JSON.stringify([{ dnsName: 'ns1', ips: ['192.0.2.1'] }]),
    })
    const { taskNo } = await client.syncDnsHost({ instanceId })
    clock.advance(TASK_MS)
    const [detail] = await client.queryAllTaskDetails({ taskNo })
    expect(detail).toMatchObject({ instanceId, status: 'EXECUTE_SUCCESS' })
    expect((await client.queryDnsHost({ instanceId })).hosts).toEqual([
      { dnsName: 'ns1', ips: ['192.0.2.1'] },
    ])
    const bad = await rejection(client.syncDnsHost({ instanceId: 'not an id' }))
    expect(bad.code).toBe('ParameterIllegal')
  })

  it('require name servers when AliyunDns is false', async () => {
    const error = await rejection(
      client.modifyDomainDnsBatch({ domainNames: ['x.com'], aliyunDns: false }),
    )
    expect(error.code).toBe('MissingDomainNameServer')
    expect(error.upstreamMessage).toBe('DomainNameServer is mandatory for this action.')
  })

  it('write times as the service does: UTC+8, in the format of each action', async () => {
    const { taskNo } = await client.syncDsRecord({ domainName: 'times.com' })
    const expected = new Date(clock.now() + 8 * 3_600_000)
    const hhmmss = expected.toISOString().slice(11, 19)
    const [detail] = await client.queryAllTaskDetails({ taskNo })
    expect(detail?.createTime).toBe(`${expected.toISOString().slice(0, 10)} ${hhmmss}`)
    const listed = await client.queryTaskList({
      beginCreateTime: clock.now(),
      endCreateTime: clock.now(),
    })
    const month = expected.toUTCString().slice(8, 11)
    const day = String(expected.getUTCDate()).padStart(2, '0')
    expect(listed.tasks.find((task) => task.taskNo === taskNo)?.createTime).toBe(
      `${month} ${day},${expected.getUTCFullYear()} ${hhmmss}`,
    )
  })

  it('a failed detail says why in FailReason; a successful one reads "The operation is successful."', async () => {
    const failed = await client.syncDsRecord({ domainName: 'fail-reason.com' })
    const passed = await client.syncDsRecord({ domainName: 'passes.com' })
    clock.advance(TASK_MS)
    const raw = async (taskNo: string) => {
      const page = await client.call('QueryTaskDetailList', z.unknown(), {
        TaskNo: taskNo,
        PageNum: 1,
        PageSize: 10,
        Format: 'JSON',
      })
      return (page as { Data: { TaskDetail: Record<string, unknown>[] } }).Data.TaskDetail[0]
    }
    expect(await raw(failed.taskNo)).toMatchObject({
      TaskStatus: 'EXECUTE_FAILURE',
      FailReason: expect.stringContaining('rejected'),
    })
    expect(await raw(passed.taskNo)).toMatchObject({
      TaskStatus: 'EXECUTE_SUCCESS',
      ErrorMsg: 'The operation is successful.',
      FailReason: '',
    })
  })

  it("accept instance ids as the docs' own examples write them", async () => {
    const { taskNo } = await client.syncDnsHost({ instanceId: 'S20179H1BBI9test' })
    expect(taskNo).toBeTruthy()
  })
})

describe('the adversarial profile varies what the documents leave open', () => {
  async function adversarial(given: Parameters<typeof adversarialBehaviour>[1]) {
    await emulator.close()
    emulator = await startTestEmulator({
      now: clock.now,
      account: { taskMs: TASK_MS, behaviour: adversarialBehaviour(Math.random, given) },
    })
    client = clientFor(emulator, {}, { now: clock.now })
  }

  const orders: Record<ListOrder, (created: string[]) => string[]> = {
    newest: (created) => [...created].reverse(),
    oldest: (created) => created,
    random: (created) => created,
  }
  for (const order of ['newest', 'oldest', 'random'] as const) {
    it(`lists tasks ${order === 'random' ? 'in a stable random order' : `${order} first`}, among hundreds of unrelated ones`, async () => {
      await adversarial({ listOrder: order, listingDelayMs: 0, unrelatedTasks: 250 })
      const created: string[] = []
      for (let i = 0; i < 5; i++) {
        created.push((await client.syncDsRecord({ domainName: `order-${i}.com` })).taskNo)
        clock.advance(1_000)
      }
      const listAll = async () => {
        const seen: string[] = []
        for (let pageNum = 1; ; pageNum++) {
          const page = await client.queryTaskList({
            beginCreateTime: clock.now() - 60_000,
            endCreateTime: clock.now(),
            pageNum,
            pageSize: 100,
          })
          seen.push(...page.tasks.map((task) => task.taskNo))
          if (!page.hasNextPage) return seen
        }
      }
      const first = await listAll()
      expect(first.length).toBeGreaterThanOrEqual(255)
      const ours = first.filter((taskNo) => created.includes(taskNo))
      if (order === 'random') {
        expect(new Set(ours)).toEqual(new Set(created))
        // Stable: the same order on every read.
        expect(await listAll()).toEqual(first)
      } else {
        expect(ours).toEqual(orders[order](created))
      }
      // Only the requests' own tasks are the account's tasks; the crowd is listed, not counted.
      expect(emulator.account.tasks.size).toBe(5)
    })
  }

  it('shows a new task in QueryTaskList only after its listing delay (its details at once)', async () => {
    await adversarial({ listingDelayMs: 800, unrelatedTasks: 0 })
    const { taskNo } = await client.syncDsRecord({ domainName: 'delayed.com' })
    const list = () =>
      client.queryTaskList({ beginCreateTime: clock.now(), endCreateTime: clock.now() })
    expect((await list()).tasks).toEqual([])
    expect(await client.queryAllTaskDetails({ taskNo })).toHaveLength(1)
    clock.advance(800)
    expect((await list()).tasks.map((task) => task.taskNo)).toEqual([taskNo])
  })

  it('names the DS task types at random, never with a documented name', async () => {
    await adversarial({ unrelatedTasks: 0, listingDelayMs: 0 })
    const { taskNo } = await client.syncDsRecord({ domainName: 'types.com' })
    const [detail] = await client.queryAllTaskDetails({ taskNo })
    expect(detail?.taskType).toMatch(/^T_[A-Z]{8}$/)
    expect(DOCUMENTED_TASK_TYPES.has(detail?.taskType ?? '')).toBe(false)
  })

  it('fails a busy or unregistered domain of a batch in its own detail, when the profile says so', async () => {
    await adversarial({ batchFailure: 'detail', unrelatedTasks: 0, taskMsSpread: 1 })
    await client.syncDsRecord({ domainName: 'busy-one.com' })
    const { taskNo } = await client.modifyDomainDnsBatch({
      domainNames: ['busy-one.com', 'unregistered-two.com', 'free-three.com'],
      aliyunDns: true,
    })
    clock.advance(TASK_MS)
    const details = await client.queryAllTaskDetails({ taskNo })
    expect(Object.fromEntries(details.map((detail) => [detail.domainName, detail.status]))).toEqual(
      {
        'busy-one.com': 'EXECUTE_FAILURE',
        'unregistered-two.com': 'EXECUTE_FAILURE',
        'free-three.com': 'EXECUTE_SUCCESS',
      },
    )
  })
})

describe('the documented DS preconditions', () => {
  it('a domain starts on another provider’s name servers, not Alibaba Cloud DNS', async () => {
    const { nameServers } = await client.queryDomain({ domainName: 'fresh.com' })
    expect(nameServers).toEqual(['ns1.example-dns.net', 'ns2.example-dns.net'])
  })

  it('refuses a DS record for a TLD outside the documented list, in the task’s FailReason', async () => {
    const { taskNo } = await client.addDsRecord({ domainName: 'example.xyz', ...record(1) })
    clock.advance(TASK_MS)
    const [detail] = await client.queryAllTaskDetails({ taskNo })
    expect(detail).toMatchObject({ status: 'EXECUTE_FAILURE' })
    expect(detail?.errorMessage).toMatch(/\.xyz/)
    expect(emulator.account.dsRecords.get('example.xyz')).toBeUndefined()
  })

  it('holds at most eight DS records per domain', async () => {
    for (let keyTag = 1; keyTag <= 9; keyTag++) {
      const { taskNo } = await client.addDsRecord({ domainName: 'eight.com', ...record(keyTag) })
      clock.advance(TASK_MS)
      const [detail] = await client.queryAllTaskDetails({ taskNo })
      expect(detail?.status, `record ${keyTag}`).toBe(
        keyTag <= 8 ? 'EXECUTE_SUCCESS' : 'EXECUTE_FAILURE',
      )
    }
    expect(emulator.account.dsRecords.get('eight.com')).toHaveLength(8)
  })

  it('refuses a registrar DS record while the domain is on Alibaba Cloud DNS', async () => {
    await client.modifyDomainDnsBatch({ domainNames: ['on-alidns.com'], aliyunDns: true })
    clock.advance(TASK_MS)
    const { taskNo } = await client.addDsRecord({ domainName: 'on-alidns.com', ...record(7) })
    clock.advance(TASK_MS)
    const [detail] = await client.queryAllTaskDetails({ taskNo })
    expect(detail).toMatchObject({ status: 'EXECUTE_FAILURE' })
    expect(detail?.errorMessage).toMatch(/Alibaba Cloud DNS/)
  })
})
