import type { Metrics } from '#shared/metrics.ts'

/** Metrics that count the upstream client's calls by action (`UpstreamCalls`) and drop the rest. */
export function upstreamCallCounter(): { metrics: Metrics; calls: Map<string, number> } {
  const calls = new Map<string, number>()
  const metrics: Metrics = {
    add: (name, value = 1, options) => {
      if (name !== 'UpstreamCalls') return
      const action = options?.dimensions?.Action ?? '?'
      calls.set(action, (calls.get(action) ?? 0) + value)
    },
    flush: () => {},
  }
  return { metrics, calls }
}
