import { BindZone, requireBind } from '../helpers/bind.ts'
import { describeCdsAutomation } from '../helpers/rollover-suite.ts'

// BIND 9 itself: keys made, zones signed and served as the test goes (npm run test:interop).
describeCdsAutomation('CDS-driven DS automation against BIND 9, live', (zone, port) => {
  requireBind()
  return new BindZone(zone, port)
})
