import { loadEmulatorConfig } from '#infra/emulator/emulator-config.ts'
import { LOCAL_DEFAULTS } from '#shared/local-defaults.ts'
import { behaviourFor } from './behaviour.ts'
import type { FaultRuleInput } from './faults.ts'
import { startEmulator } from './server.ts'

const config = loadEmulatorConfig(process.env, LOCAL_DEFAULTS)
const emulator = await startEmulator({
  port: config.port ?? LOCAL_DEFAULTS.emulatorPort,
  host: config.host,
  credentials: [config.credential],
  account: {
    taskMs: config.taskMs,
    unregisteredPattern: config.unregisteredPattern,
    unregisteredDomains: new Set(config.unregisteredDomains),
    failingPattern: config.failingPattern,
    behaviour: behaviourFor(config.behaviour.profile, Math.random, config.behaviour),
  },
  faults: config.faults as FaultRuleInput[],
  timestampWindowMs: config.timestampWindowMs,
  now: () => Date.now() + config.clockOffsetMs,
  parentZone: config.parentZone,
})
console.log(
  JSON.stringify({
    msg: 'Domain API emulator listening',
    url: emulator.url,
    accessKeyId: config.credential.accessKeyId,
    taskMs: config.taskMs,
    parentZoneDnsPort: emulator.parentZone?.port,
    faults: emulator.faults.list(),
    behaviour: emulator.account.options.behaviour,
  }),
)
const stop = () => {
  emulator.close().then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
