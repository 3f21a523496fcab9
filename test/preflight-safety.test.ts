import { RecordedZone } from './helpers/recorded-zone.ts'
import { describePreflightSafety } from './helpers/safety-suite.ts'

// BIND's own answers, recorded (npm run fixtures:dnssec) and served in-process: no BIND needed.
describePreflightSafety(
  'safe by default: pre-flight checks against BIND 9, replayed',
  (zone, port) => new RecordedZone(zone, port),
)
