import { describe, expect, it } from 'vitest'
import { loadEmulatorConfig } from '../../infra/emulator/emulator-config.ts'
import { ConfigError } from './env.ts'
import { loadSettings } from './settings.ts'
import { loadDomainApiSettings } from './upstream-env.ts'

const credentials = { ALIYUN_ACCESS_KEY_ID: 'id', ALIYUN_ACCESS_KEY_SECRET: 'secret' }

describe('loadDomainApiSettings', () => {
  it('applies the documented defaults', () => {
    expect(loadDomainApiSettings(credentials)).toMatchObject({
      endpoint: 'https://domain.aliyuncs.com',
      apiVersion: '2018-01-29',
      signatureVersion: 'v1',
      method: 'POST',
      timeoutMs: 10_000,
    })
  })

  it('defaults domain-intl to its own API version, and an explicit version wins', () => {
    const intl = { ...credentials, ALIYUN_ENDPOINT: 'https://domain-intl.aliyuncs.com/' }
    expect(loadDomainApiSettings(intl)).toMatchObject({
      endpoint: 'https://domain-intl.aliyuncs.com',
      apiVersion: '2017-12-18',
    })
    expect(loadDomainApiSettings({ ...intl, ALIYUN_API_VERSION: '2018-01-29' }).apiVersion).toBe(
      '2018-01-29',
    )
  })

  it('fails early naming the variable that is missing or wrong', () => {
    expect(() => loadDomainApiSettings({ ALIYUN_ACCESS_KEY_ID: 'id' })).toThrow(
      /ALIYUN_ACCESS_KEY_SECRET/,
    )
    expect(() => loadDomainApiSettings({ ...credentials, ALIYUN_TIMEOUT_MS: 'soon' })).toThrow(
      /ALIYUN_TIMEOUT_MS/,
    )
    expect(() => loadDomainApiSettings({ ...credentials, ALIYUN_ENDPOINT: 'ftp://x' })).toThrow(
      ConfigError,
    )
    expect(() => loadDomainApiSettings({ ...credentials, ALIYUN_SIGNATURE_VERSION: 'v2' })).toThrow(
      /ALIYUN_SIGNATURE_VERSION/,
    )
  })

  it('never puts the secret in its error message', () => {
    try {
      loadDomainApiSettings({
        ALIYUN_ACCESS_KEY_SECRET: 'super-secret-value',
        ALIYUN_TIMEOUT_MS: 'x',
      })
      expect.unreachable()
    } catch (error) {
      expect(String(error)).not.toContain('super-secret-value')
    }
  })
})

describe('loadEmulatorConfig', () => {
  const local = { accessKeyId: 'local-id', accessKeySecret: 'local-secret' }

  it('uses the local credentials unless told otherwise', () => {
    expect(loadEmulatorConfig({}, local).credential).toEqual(local)
    expect(loadEmulatorConfig(credentials, local).credential).toEqual({
      accessKeyId: 'id',
      accessKeySecret: 'secret',
    })
  })

  it('turns fault variables into rules, limited to the listed actions', () => {
    const config = loadEmulatorConfig(
      {
        EMULATOR_THROTTLE_RATE: '0.1',
        EMULATOR_LATENCY_MS: '20',
        EMULATOR_FAULT_ACTIONS: 'QueryDSRecord, QueryTaskList',
        EMULATOR_FAULTS: '[{"kind":"reset","rate":0.5}]',
      },
      local,
    )
    expect(config.faults).toEqual([
      { kind: 'latency', rate: 1, ms: 20, actions: ['QueryDSRecord', 'QueryTaskList'] },
      { kind: 'throttle', rate: 0.1, actions: ['QueryDSRecord', 'QueryTaskList'] },
      { kind: 'reset', rate: 0.5 },
    ])
    expect(() => loadEmulatorConfig({ EMULATOR_5XX_RATE: '2' }, local)).toThrow(/EMULATOR_5XX_RATE/)
    expect(() => loadEmulatorConfig({ EMULATOR_FAULTS: '{' }, local)).toThrow(/EMULATOR_FAULTS/)
  })
})

describe('loadSettings: the DNS overrides', () => {
  const credential = { ALIYUN_ACCESS_KEY_ID: 'id', ALIYUN_ACCESS_KEY_SECRET: 'secret' }
  const overrides = (servers: string[]) => JSON.stringify({ 'example.com': servers })

  it('refuses DNS_SERVER_OVERRIDES the address policy refuses, naming the variable', () => {
    expect(() =>
      loadSettings({
        ...credential,
        CALLBACK_ALLOW_LOOPBACK: 'false',
        DNS_SERVER_OVERRIDES: overrides(['127.0.0.1:5353']),
      }),
    ).toThrow(/DNS_SERVER_OVERRIDES for example\.com: 127\.0\.0\.1 is a loopback address/)
    expect(() =>
      loadSettings({
        ...credential,
        DNS_SERVER_OVERRIDES: overrides(['169.254.169.254:53']),
      }),
    ).toThrow(/metadata/)
  })

  it('takes overrides the policy allows: loopback when allowed, listed ranges, public addresses', () => {
    expect(
      loadSettings({
        ...credential,
        CALLBACK_ALLOW_LOOPBACK: 'true',
        DNS_SERVER_OVERRIDES: overrides(['127.0.0.1:5353']),
      }).dnssec.serverOverrides,
    ).toEqual({ 'example.com': ['127.0.0.1:5353'] })
    expect(
      loadSettings({
        ...credential,
        CALLBACK_ALLOWLIST: '10.20.0.0/16',
        DNS_SERVER_OVERRIDES: overrides(['10.20.1.2:53', '[2606:4700::1111]:53']),
      }).dnssec.serverOverrides,
    ).toEqual({ 'example.com': ['10.20.1.2:53', '[2606:4700::1111]:53'] })
  })
})
