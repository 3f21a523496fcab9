import { RecordedZone } from './helpers/recorded-zone.ts'
import { describeCdsAutomation } from './helpers/rollover-suite.ts'

// BIND's own answers, recorded (npm run fixtures:dnssec) and served in-process: no BIND needed.
describeCdsAutomation(
  'CDS-driven DS automation against BIND 9, replayed',
  (zone, port) => new RecordedZone(zone, port),
)
