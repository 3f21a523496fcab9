import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../../test/helpers/settings.ts'
import { type Ahead, MAX_OVERTAKEN, mayGoBefore, waitsElsewhereForEarlier } from './overtaking.ts'
import { ticketOf } from './target-locks.ts'
import type { Task, TaskCommand } from './task.ts'
import { newTask, toQueued } from './task-states.ts'

/** Who may go before whom in one domain's queue: a pure decision on what was read. */
const AT = Date.UTC(2026, 11, 7, 12, 0, 0)
const deps = { settings: DEFAULTS.submit }

function queued(id: string, at: number, command: TaskCommand, changeId?: string): Task {
  const task = newTask({ tenant: 't', keyId: 'k', command, callbackUrl: undefined }, id, at)
  return { ...toQueued(deps, task, ticketOf(at, 0, id, 't'), 'target-busy'), changeId }
}
const nsBatch = (...domains: string[]): TaskCommand => ({
  action: 'dns.batch',
  domains,
  aliyunDns: true,
  nameServers: [],
})
const dsSync = (domain: string): TaskCommand => ({ action: 'ds.sync', domain })
const ticket = (task: Task) => task.queue?.ticket as string
const state = (target: string, extra: Partial<Ahead['states'][number]> = {}) => ({
  target,
  waiters: [],
  version: 1,
  ...extra,
})

// A batch on a and b, accepted at AT; b is held by a task that took it before anyone waited.
const batch = queued('tsk_batch', AT, nsBatch('a.com', 'b.com'))
const heldByEarlier = [
  state('a.com', { waiters: [ticket(batch)] }),
  state('b.com', { holder: 'tsk_old', waiters: [ticket(batch)] }),
]
const ahead = (states = heldByEarlier, task: Task | undefined = batch): Ahead[] => [
  { ticket: ticket(batch), task, states },
]

describe('going before a waiting batch', () => {
  it('a DS change may go before a name-server batch that waits for an earlier holder elsewhere', () => {
    const ds = queued('tsk_ds', AT + 1, dsSync('a.com'))
    expect(mayGoBefore(ds, 'a.com', ahead())).toBe(true)
  })

  it('the batch waits elsewhere for earlier work: an earlier ticket ahead of it, or a holder before it', () => {
    const earlierTicket = ticketOf(AT - 1, 0, 'tsk_earlier', 't')
    const behindEarlier = state('b.com', { waiters: [earlierTicket, ticket(batch)] })
    expect(waitsElsewhereForEarlier(batch.id, ticket(batch), 'a.com', [behindEarlier])).toBe(true)
    const holderBefore = state('b.com', { holder: 'tsk_h', holderTicket: earlierTicket })
    expect(
      waitsElsewhereForEarlier(batch.id, ticket(batch), 'a.com', [
        { ...holderBefore, waiters: [ticket(batch)] },
      ]),
    ).toBe(true)
  })

  it('not while the batch waits only for a task that went before it: it never starves', () => {
    const later = ticketOf(AT + 5, 0, 'tsk_later', 't')
    const heldByLater = [
      state('a.com', { waiters: [ticket(batch)] }),
      state('b.com', { holder: 'tsk_later', holderTicket: later, waiters: [ticket(batch)] }),
    ]
    const ds = queued('tsk_ds', AT + 6, dsSync('a.com'))
    expect(mayGoBefore(ds, 'a.com', ahead(heldByLater))).toBe(false)
    // Nor when its other domain is free (it is about to go), or it holds that domain itself.
    const free = [
      state('a.com', { waiters: [ticket(batch)] }),
      state('b.com', { waiters: [ticket(batch)] }),
    ]
    expect(mayGoBefore(ds, 'a.com', ahead(free))).toBe(false)
    const own = [state('a.com'), state('b.com', { holder: batch.id })]
    expect(mayGoBefore(ds, 'a.com', ahead(own))).toBe(false)
  })

  it('not a name-server change before a name-server batch: their order decides the name servers', () => {
    const ns = queued('tsk_ns', AT + 1, nsBatch('a.com'))
    expect(mayGoBefore(ns, 'a.com', ahead())).toBe(false)
  })

  it('not a DS change before a DS change, nor a step of the same change', () => {
    const dsFirst = queued('tsk_ds1', AT, dsSync('a.com'))
    const held = [state('a.com', { waiters: [ticket(dsFirst)] })]
    const dsSecond = queued('tsk_ds2', AT + 1, dsSync('a.com'))
    expect(
      mayGoBefore(dsSecond, 'a.com', [{ ticket: ticket(dsFirst), task: dsFirst, states: held }]),
    ).toBe(false)
    const step1 = { ...batch, changeId: 'chg_1' }
    const step2 = queued('tsk_step2', AT, dsSync('a.com'), 'chg_1')
    expect(mayGoBefore(step2, 'a.com', ahead(heldByEarlier, step1))).toBe(false)
    expect(mayGoBefore({ ...step2, changeId: 'chg_2' }, 'a.com', ahead(heldByEarlier, step1))).toBe(
      true,
    )
  })

  it('not before a ticket whose task is gone, is no longer waiting with it, or too many at once', () => {
    const ds = queued('tsk_ds', AT + 1, dsSync('a.com'))
    const gone: Ahead = { ticket: ticket(batch), task: undefined, states: heldByEarlier }
    expect(mayGoBefore(ds, 'a.com', [gone])).toBe(false)
    expect(mayGoBefore(ds, 'a.com', ahead(heldByEarlier, { ...batch, status: 'submitting' }))).toBe(
      false,
    )
    const many = Array.from({ length: MAX_OVERTAKEN + 1 }, () => ahead()[0] as Ahead)
    expect(mayGoBefore(ds, 'a.com', many.slice(0, MAX_OVERTAKEN))).toBe(true)
    expect(mayGoBefore(ds, 'a.com', many)).toBe(false)
  })
})
