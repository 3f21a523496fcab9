import { BindZone, requireBind } from '../helpers/bind.ts'
import { describePreflightSafety } from '../helpers/safety-suite.ts'

requireBind()
// The same tests against BIND itself: keys made by dnssec-keygen, zones signed and served now.
describePreflightSafety(
  'safe by default: pre-flight checks against a live BIND 9',
  (zone, port) => new BindZone(zone, port),
)
