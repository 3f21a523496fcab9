import { describe, expect, it } from 'vitest'
import { checkAddress, parseAllowlist, STRICT_POLICY } from './address-policy.ts'

describe('callback address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'metadata'],
    ['fc00::1', 'uniqueLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::0a00:0001', 'private'],
    ['2002:7f00:0001::1', 'loopback'],
    ['[::1]', 'loopback'],
  ])('blocks %s (%s)', (address, kind) => {
    const verdict = checkAddress(address, STRICT_POLICY)
    expect(verdict.allowed).toBe(false)
    if (!verdict.allowed) expect(verdict.reason).toContain(kind === 'metadata' ? 'metadata' : kind)
  })

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:93.184.215.14'])(
    'allows public %s',
    (address) => {
      expect(checkAddress(address, STRICT_POLICY).allowed).toBe(true)
    },
  )

  it('allows loopback only in local mode, and listed CIDRs, but never the metadata addresses', () => {
    expect(checkAddress('127.0.0.1', { allowLoopback: true, allowlist: [] }).allowed).toBe(true)
    expect(checkAddress('::ffff:127.0.0.1', { allowLoopback: true, allowlist: [] }).allowed).toBe(
      true,
    )
    const policy = {
      allowLoopback: false,
      allowlist: parseAllowlist(['10.0.0.0/8', '169.254.0.0/16', 'fd00::/8', '192.168.5.5']),
    }
    expect(checkAddress('10.9.9.9', policy).allowed).toBe(true)
    expect(checkAddress('192.168.5.5', policy).allowed).toBe(true)
    expect(checkAddress('192.168.5.6', policy).allowed).toBe(false)
    expect(checkAddress('169.254.1.1', policy).allowed).toBe(true)
    expect(checkAddress('169.254.169.254', policy).allowed).toBe(false)
    expect(checkAddress('fd00:ec2::254', policy).allowed).toBe(false)
  })
})
