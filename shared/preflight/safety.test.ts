import { describe, expect, it } from 'vitest'
import type { DsRecord } from '../dns/dnskey.ts'
import type { ServerEvidence } from '../tasks/change-safety.ts'
import type { TaskCommand } from '../tasks/task.ts'
import { dsAfter } from './ds-after.ts'
import { decide, UnsafeChangeError } from './preflight.ts'
import { judgeChange, judgeDomain } from './safety.ts'

const A: DsRecord = { keyTag: 1, algorithm: 13, digestType: 2, digest: 'AA'.repeat(32) }
const B: DsRecord = { keyTag: 2, algorithm: 13, digestType: 2, digest: 'bb'.repeat(32) }
const B2: DsRecord = { ...B, digest: 'cc'.repeat(32) }
const server = (outcome: ServerEvidence['outcome'], problem?: string): ServerEvidence => ({
  nameServer: 'ns1.example.net',
  address: '192.0.2.1:53',
  transport: 'tcp+udp',
  outcome,
  keys: [{ keyTag: 1, algorithm: 13, sep: true }],
  signed: true,
  problem,
})

describe('the DS set after a command', () => {
  const lower = (ds: DsRecord) => ({ ...ds, digest: ds.digest.toLowerCase() })
  it('adds beside the others (once), replaces by key tag, deletes every record of a key tag', () => {
    const add = (record: DsRecord): TaskCommand => ({ action: 'ds.add', domain: 'x.com', record })
    expect(dsAfter([A], add(B))).toEqual([lower(A), B])
    expect(dsAfter([A], add({ ...A, digest: A.digest.toLowerCase() }))).toEqual([lower(A)])
    expect(dsAfter([A, B], { action: 'ds.modify', domain: 'x.com', record: B2 })).toEqual([
      lower(A),
      B2,
    ])
    expect(dsAfter([A, B, B2], { action: 'ds.delete', domain: 'x.com', keyTag: 2 })).toEqual([
      lower(A),
    ])
    expect(dsAfter([A], { action: 'ds.sync', domain: 'x.com' })).toBeUndefined()
  })
})

describe('a verdict', () => {
  it('no DS left: insecure, whatever the servers serve', () => {
    expect(judgeDomain('x.com', [], [server('not-validated')]).verdict).toBe('insecure')
  })
  it('one server validated by nothing makes the domain unsafe, even when another is unanswered', () => {
    const verdict = judgeDomain(
      'x.com',
      [A],
      [
        server('unanswered', 'timeout'),
        server('not-validated', 'no DS of the set matches a key it serves'),
      ],
    )
    expect(verdict.verdict).toBe('unsafe')
    expect(verdict.reason).toMatch(/1 \(alg 13, KSK\), signed: no DS of the set matches/)
  })
  it('servers not found, unanswered or unchecked: unverified; all validating: safe', () => {
    expect(judgeDomain('x.com', [A], [], 'no NS').verdict).toBe('unverified')
    expect(judgeDomain('x.com', [A], [server('validates'), server('unchecked')]).verdict).toBe(
      'unverified',
    )
    expect(judgeDomain('x.com', [A], [server('validates'), server('validates')]).verdict).toBe(
      'safe',
    )
  })
  it("a change's verdict is its worst domain's", () => {
    const safe = judgeDomain('a.com', [A], [server('validates')])
    const unsafe = judgeDomain('b.com', [A], [server('not-validated')])
    const change = judgeChange([safe, unsafe, safe], 0)
    expect(change.verdict).toBe('unsafe')
    expect(change.reason).toMatch(/^1 of 3 domains are unsafe/)
    expect(judgeChange([safe], 0).reason).toBe(safe.reason)
  })
  it('refuses unsafe, and unverified only when told to; force carries out either and is recorded', () => {
    const unsafe = judgeChange([judgeDomain('b.com', [A], [server('not-validated')])], 0)
    const unverified = judgeChange([judgeDomain('b.com', [A], [], 'no NS')], 0)
    expect(() => decide(unsafe, false, { unverified: 'proceed' })).toThrow(UnsafeChangeError)
    expect(() => decide(unverified, false, { unverified: 'refuse' })).toThrow(UnsafeChangeError)
    expect(decide(unverified, false, { unverified: 'proceed' }).forced).toBeUndefined()
    expect(decide(unsafe, true, { unverified: 'refuse' })).toMatchObject({
      verdict: 'unsafe',
      forced: true,
    })
  })
})
