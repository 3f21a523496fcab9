import { describe, expect, it } from 'vitest'
import { addressPolicy } from '../webhooks/address-policy.ts'
import { hostLookup, NameServerLookupError, serverLookup } from './name-servers.ts'

const resolver = (table: Record<string, string[]>) => ({
  resolveNs: async (zone: string) => table[`NS ${zone}`] ?? Promise.reject(new Error('ENOTFOUND')),
  resolve4: async (host: string) => table[`A ${host}`] ?? [],
  resolve6: async (host: string) => table[`AAAA ${host}`] ?? [],
})

describe('the servers the scanner asks', () => {
  const policy = addressPolicy({ allowLoopback: false, allowlist: [] })

  it('resolves the NS set and keeps only addresses the policy allows', async () => {
    const lookup = serverLookup({
      overrides: {},
      policy,
      resolver: resolver({
        'NS example.com': ['ns1.example.net', 'ns2.example.net'],
        'A ns1.example.net': ['93.184.215.14'],
        'A ns2.example.net': ['10.0.0.53', '169.254.169.254'],
        'AAAA ns2.example.net': ['2606:4700::1111'],
      }),
    })
    expect(await lookup('example.com')).toEqual([
      { name: 'ns1.example.net', host: '93.184.215.14', port: 53 },
      { name: 'ns2.example.net', host: '2606:4700::1111', port: 53 },
    ])
  })

  it('refuses a zone whose servers are all internal, saying why', async () => {
    const lookup = serverLookup({
      overrides: {},
      policy,
      resolver: resolver({
        'NS inside.example': ['ns.inside.example'],
        'A ns.inside.example': ['127.0.0.1'],
      }),
    })
    await expect(lookup('inside.example')).rejects.toThrow(NameServerLookupError)
    await expect(lookup('inside.example')).rejects.toThrow(/loopback/)
  })

  it('uses DNS_SERVER_OVERRIDES for a zone as given', async () => {
    const lookup = serverLookup({
      overrides: { 'example.test': ['127.0.0.1:5353', '[::1]:53'] },
      policy,
    })
    expect(await lookup('Example.Test.')).toEqual([
      { name: 'example.test', host: '127.0.0.1', port: 5353 },
      { name: 'example.test', host: '::1', port: 53 },
    ])
  })

  it('maps a name server host name through DNS_SERVER_OVERRIDES, in the NS set and as a new server', async () => {
    const options = {
      overrides: { 'ns1.new-provider.net': ['127.0.0.1:5301'] },
      policy,
      resolver: resolver({
        'NS moving.example': ['NS1.new-provider.net.', 'ns2.new-provider.net'],
        'A ns2.new-provider.net': ['93.184.215.14'],
      }),
    }
    expect(await serverLookup(options)('moving.example')).toEqual([
      { name: 'ns1.new-provider.net', host: '127.0.0.1', port: 5301 },
      { name: 'ns2.new-provider.net', host: '93.184.215.14', port: 53 },
    ])
    expect(await hostLookup(options)(['ns1.new-provider.net', 'ns9.nowhere.example'])).toEqual({
      servers: [{ name: 'ns1.new-provider.net', host: '127.0.0.1', port: 5301 }],
      problems: ['ns9.nowhere.example does not resolve'],
    })
  })
})
