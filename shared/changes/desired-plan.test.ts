import { describe, expect, it } from 'vitest'
import {
  dsDrift,
  dsSteps,
  isAliyunDns,
  nameServerDrift,
  planDs,
  planNameServers,
  UnplannableError,
} from './desired-plan.ts'

const ds = (keyTag: number, digestType = 2, fill = 'a') => ({
  keyTag,
  algorithm: 13,
  digestType,
  digest: fill.repeat(digestType === 1 ? 40 : 64),
})

describe('planDs', () => {
  it('matches by content, digests case-insensitively, never by position', () => {
    const current = [ds(1), { ...ds(2), digest: ds(2).digest.toUpperCase() }]
    const plan = planDs(current, [ds(2), ds(3)])
    expect(plan).toEqual({ add: [ds(3)], remove: [ds(1)], keep: [ds(2)] })
    expect(planDs([ds(1), ds(2)], [ds(2), ds(1)])).toEqual({
      add: [],
      remove: [],
      keep: [ds(1), ds(2)],
    })
  })

  it('treats the same key tag with another digest as another record', () => {
    const plan = planDs([ds(7, 2, 'a')], [ds(7, 2, 'a'), ds(7, 1, 'b')])
    expect(plan.add).toEqual([ds(7, 1, 'b')])
    expect(plan.remove).toEqual([])
  })

  it('refuses a removal the registry can only make by deleting a key tag that stays', () => {
    expect(() => planDs([ds(7, 2, 'a'), ds(7, 1, 'b')], [ds(7, 2, 'a')])).toThrow(UnplannableError)
    expect(() => planDs([ds(7, 2, 'a')], [ds(7, 2, 'b')])).toThrow(UnplannableError)
  })

  it('orders every add before one delete per key tag', () => {
    const steps = dsSteps(planDs([ds(1), ds(2)], [ds(3), ds(4)]))
    expect(steps).toEqual({ adds: [ds(3), ds(4)], deletes: [1, 2] })
  })

  it('reports drift as missing and unexpected records', () => {
    expect(dsDrift([ds(1), ds(9)], [ds(1), ds(2)])).toEqual({
      missing: [ds(2)],
      unexpected: [ds(9)],
    })
  })
})

describe('planNameServers', () => {
  const aliyun = ['dns1.hichina.com', 'dns2.hichina.com']

  it("recognises Alibaba Cloud DNS's own servers", () => {
    expect(isAliyunDns(aliyun)).toBe(true)
    expect(isAliyunDns(['ns1.alidns.com.', 'NS2.ALIDNS.COM'])).toBe(true)
    expect(isAliyunDns(['dns1.hichina.com', 'ns1.example.net'])).toBe(false)
    expect(isAliyunDns([])).toBe(false)
  })

  it('plans a switch to own servers and back, and nothing when already there', () => {
    const own = { aliyunDns: false, nameServers: ['NS1.example.net.', 'ns2.example.net'] }
    const away = planNameServers(aliyun, own)
    expect(away).toMatchObject({
      add: ['ns1.example.net', 'ns2.example.net'],
      remove: aliyun,
      change: true,
    })
    expect(planNameServers(['ns2.example.net', 'ns1.example.net'], own).change).toBe(false)
    const back = planNameServers(['ns1.example.net'], { aliyunDns: true, nameServers: [] })
    expect(back).toMatchObject({ remove: ['ns1.example.net'], change: true })
    expect(planNameServers(aliyun, { aliyunDns: true, nameServers: [] }).change).toBe(false)
  })

  it('reports name-server drift', () => {
    const drift = nameServerDrift(['ns1.example.net', 'ns3.example.net'], {
      aliyunDns: false,
      nameServers: ['ns1.example.net', 'ns2.example.net'],
    })
    expect(drift).toMatchObject({
      inSync: false,
      missing: ['ns2.example.net'],
      unexpected: ['ns3.example.net'],
    })
  })
})
