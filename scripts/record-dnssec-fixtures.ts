/**
 * Records test/fixtures/dnssec/recorded-zones.json: for each state the DNSSEC tests put their
 * zones in, BIND 9 makes the keys (`dnssec-keygen`), signs the zone (`dnssec-signzone`, signatures
 * valid 2025–2045), serves it (`named`) and answers the gateway's own queries over UDP and TCP;
 * the answers are kept byte for byte. `npm test` serves them in-process (test/helpers/
 * recorded-zone.ts); `npm run test:interop` runs the same tests against BIND itself.
 *
 * Needs BIND (apt-get install bind9 bind9-utils bind9-dnsutils) and Knot. Run: npm run fixtures:dnssec
 * (`-- --only zone,…`: record just those zones with BIND, keeping every other recording).
 */
import { execFileSync } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import dnsPacket from 'dns-packet'
import { dsFromDnskey, keyTagOf, parseDnskey } from '#shared/dns/dnskey.ts'
import { BindZone, requireBind } from '../test/helpers/bind.ts'
import { freePort } from '../test/helpers/free-port.ts'
import {
  MULTI_SIGNER_ZONE,
  type MultiSignerState,
  MultiSignerZone,
} from '../test/helpers/multi-signer.ts'
import { requireServer } from '../test/helpers/policy-server.ts'
import {
  ownersOf,
  questionKey,
  RECORDED_ZONES_FILE,
  stateKey,
} from '../test/helpers/recorded-zone.ts'
import { CDS_SCENARIOS } from '../test/helpers/rollover-suite.ts'
import { SAFETY_SCENARIOS } from '../test/helpers/safety-zones.ts'
import type { ZoneKey } from '../test/helpers/test-zone.ts'

const VALIDITY = { inception: '20250101000000', expiration: '20450101000000' }
const TYPES = ['DNSKEY', 'CDS', 'CDNSKEY'] as const

/** The query the gateway's DNS client sends (DO bit, 1232-byte EDNS payload). */
function query(name: string, type: string): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: 0,
    questions: [{ type: type as 'DNSKEY', name, class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0x8000,
        flag_do: true,
        options: [],
      },
    ],
  } as dnsPacket.Packet)
}

function askUdp(port: number, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    const timer = setTimeout(() => {
      socket.close()
      reject(new Error('no UDP answer'))
    }, 3_000)
    socket.on('message', (reply) => {
      clearTimeout(timer)
      socket.close()
      resolve(reply)
    })
    socket.send(message, port, '127.0.0.1')
  })
}

function askTcp(port: number, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let buffered = Buffer.alloc(0)
    socket.setTimeout(3_000, () => {
      socket.destroy()
      reject(new Error('no TCP answer'))
    })
    socket.once('error', reject)
    socket.once('connect', () => {
      const length = Buffer.alloc(2)
      length.writeUInt16BE(message.length)
      socket.write(Buffer.concat([length, message]))
    })
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length >= 2 && buffered.length >= buffered.readUInt16BE(0) + 2) {
        socket.end()
        resolve(buffered.subarray(2, buffered.readUInt16BE(0) + 2))
      }
    })
  })
}

requireBind()
/** The DS of a key recorded earlier in this run (RFC 9615 signals name another zone's keys). */
const dsOf = (zone: string, index: number) => {
  const key = zones[zone]?.keys[index]
  if (!key) throw new Error(`${zone}'s key ${index} is not recorded yet: order CDS_SCENARIOS so`)
  return dsFromDnskey(zone, parseDnskey(key.dnskey), 2)
}
type Recorded = { keys: ZoneKey[]; states: Record<string, Record<string, string>> }
const onlyAt = process.argv.indexOf('--only')
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : undefined
const previous = only
  ? (JSON.parse(readFileSync(RECORDED_ZONES_FILE, 'utf8')) as {
      recordedWith: string
      zones: Record<string, Recorded>
    })
  : undefined
const zones: Record<string, Recorded> = { ...previous?.zones }
const scenarios: Record<string, (typeof CDS_SCENARIOS)[string]> = {
  ...CDS_SCENARIOS,
  ...SAFETY_SCENARIOS,
}
for (const [zone, scenario] of Object.entries(scenarios)) {
  if (only && !only.includes(zone)) continue
  const bind = new BindZone(zone, await freePort(), VALIDITY)
  try {
    const keys = scenario.keys.map((ksk) => bind.newKey(ksk))
    const states: Record<string, Record<string, string>> = {}
    zones[zone] = { keys, states }
    for (const [publishedAt, cdsAt, extraLines] of scenario.states) {
      const published = publishedAt.map((index) => keys[index] as ZoneKey)
      const cds = cdsAt.map((index) => keys[index] as ZoneKey)
      const extra = extraLines?.(dsOf) ?? []
      bind.sign(published, cds, extra)
      await bind.serve()
      const answers: Record<string, string> = {}
      const questions = [
        ...TYPES.map((type) => [zone, type] as const),
        ...ownersOf(extra).flatMap((owner) => [
          [owner, 'CDS'] as const,
          [owner, 'CDNSKEY'] as const,
        ]),
      ]
      for (const [name, type] of questions) {
        const message = query(name, type)
        answers[questionKey(name, type, 'udp')] = (await askUdp(bind.port, message)).toString(
          'base64',
        )
        answers[questionKey(name, type, 'tcp')] = (await askTcp(bind.port, message)).toString(
          'base64',
        )
      }
      states[stateKey(published, cds, extra)] = answers
    }
    zones[zone] = {
      keys: keys.map(({ file, keyTag, ksk, dnskey }) => ({ file, keyTag, ksk, dnskey })),
      states,
    }
  } finally {
    await bind.close()
  }
}
// A multi-signer zone (RFC 8901 model 2): BIND and Knot, each server's answers at each step.
if (!only) await recordMultiSigner()
async function recordMultiSigner() {
  requireServer('knot-multi-signer')
  const multi = new MultiSignerZone(
    MULTI_SIGNER_ZONE,
    { bind: await freePort(), knot: await freePort(), parent: await freePort() },
    {
      validity: VALIDITY,
      // Signatures that outlive the fixture (Knot's default is two weeks).
      adjustKnot: (text) =>
        text.replace(
          'dnskey-management: incremental',
          'dnskey-management: incremental\n    rrsig-lifetime: 7300d\n    rrsig-refresh: 7000d',
        ),
    },
  )
  try {
    const states: Record<'bind' | 'knot', Record<string, Record<string, string>>> = {
      bind: {},
      knot: {},
    }
    const knotKeys = new Map<string, ZoneKey>()
    const record = async (state: MultiSignerState) => {
      for (const [server, port] of [
        ['bind', multi.bind.port],
        ['knot', multi.knot.port],
      ] as const) {
        const answers: Record<string, string> = {}
        for (const type of TYPES) {
          const message = query(MULTI_SIGNER_ZONE, type)
          answers[questionKey(MULTI_SIGNER_ZONE, type, 'udp')] = (
            await askUdp(port, message)
          ).toString('base64')
          answers[questionKey(MULTI_SIGNER_ZONE, type, 'tcp')] = (
            await askTcp(port, message)
          ).toString('base64')
        }
        states[server][state] = answers
      }
      for (const dnskey of await multi.knotKeys()) {
        const keyTag = keyTagOf(parseDnskey(dnskey))
        knotKeys.set(dnskey, { file: 'knot', keyTag, ksk: dnskey.startsWith('257 '), dnskey })
      }
    }
    await multi.start()
    await record('agreed')
    await multi.rollKnot()
    await record('knot-rolled')
    await multi.syncBind()
    await record('rolled')
    await multi.retireFirstKnotKsk()
    await record('knot-retired')
    await multi.syncBind()
    await record('retired')
    const plain = ({ file, keyTag, ksk, dnskey }: ZoneKey) => ({ file, keyTag, ksk, dnskey })
    zones[`${MULTI_SIGNER_ZONE}@bind`] = {
      keys: [multi.kskA, multi.zskA].map(plain),
      states: states.bind,
    }
    zones[`${MULTI_SIGNER_ZONE}@knot`] = { keys: [...knotKeys.values()], states: states.knot }
  } finally {
    await multi.close()
  }
}

const recordedWith =
  previous?.recordedWith ??
  `${execFileSync('named', ['-v'], { encoding: 'utf8' }).trim()}; ${execFileSync('knotd', ['--version'], { encoding: 'utf8' }).trim()}`
writeFileSync(RECORDED_ZONES_FILE, `${JSON.stringify({ recordedWith, zones }, null, 2)}\n`)
console.log(`wrote ${RECORDED_ZONES_FILE.pathname} (${recordedWith})`)
