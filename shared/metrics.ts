/**
 * Metrics as CloudWatch Embedded Metric Format: JSON log lines that CloudWatch turns into metrics
 * (no API call, no agent). Values are gathered in memory and written by `flush()`, at the end of a
 * request or a scheduled run: counts summed per metric and dimensions, other values as a list, one
 * line per set of dimension values.
 */

export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds'

/** Every metric the gateway emits (the alarms and the dashboard refer to these names). */
export const METRIC_NAMES = [
  /** A submission accepted (202), by `Action`. */
  'TasksAccepted',
  /** Of those, accepted into a domain's queue rather than sent at once. */
  'TasksQueued',
  /** A task reached a final status, by `Status`. */
  'TasksFinished',
  /** A call to the Domain API, by `Action`. */
  'UpstreamCalls',
  /** A call that failed, by `Code` and by `Retryability` (retryable, ambiguous, final). */
  'UpstreamErrors',
  /** A webhook delivery attempt, by `Outcome`. */
  'CallbackAttempts',
  /** A webhook given up on after every retry (or its endpoint disabled). */
  'CallbacksExhausted',
  /** Per poller run: due items found at its start (up to the page size per shard). */
  'DueBacklog',
  /** Per poller run: how long the oldest due item has been due. */
  'OldestDueAgeSeconds',
  /** A change's pre-flight check, by `Verdict` (safe, insecure, unsafe, unverified) and `Forced`. */
  'PreflightChecks',
  /** A change whose parent did not serve it within the bound after its task succeeded. */
  'ChangesNotPublished',
  /** Upstream calls one reconciler search made (listing pages and candidates' details). */
  'ReconcileUpstreamCalls',
  /** Attempts the SDK repeated for a DynamoDB request (throttled, 5xx, reset), by `Operation`. */
  'StoreRetries',
  /** A conditional write made whose answer was lost, recognised by its write id, by `Operation`. */
  'StoreWritesRecovered',
] as const
export type MetricName = (typeof METRIC_NAMES)[number]

export interface Metrics {
  add(
    name: MetricName,
    value?: number,
    options?: { unit?: MetricUnit; dimensions?: Readonly<Record<string, string>> },
  ): void
  /** Writes what was gathered and starts again. */
  flush(): void
}

/** Metrics switched off: nothing is gathered. */
export const noMetrics: Metrics = { add: () => {}, flush: () => {} }

export interface EmfOptions {
  readonly namespace: string
  /** The `Service` dimension every metric carries (e.g. `domain-gateway-prod`). */
  readonly service: string
  readonly write?: (line: string) => void
  readonly now?: () => number
}

interface Entry {
  readonly name: MetricName
  readonly unit: MetricUnit
  readonly dimensions: Readonly<Record<string, string>>
  values: number[]
}

/**
 * Each metric is kept per service in total and per service and each dimension apart:
 * `UpstreamErrors` is seen in all, by code and by retryability.
 */
function dimensionSets(dimensions: Readonly<Record<string, string>>): string[][] {
  return [
    ['Service'],
    ...Object.keys(dimensions)
      .sort()
      .map((name) => ['Service', name]),
  ]
}

export function emfMetrics(options: EmfOptions): Metrics {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const now = options.now ?? Date.now
  let entries = new Map<string, Entry>()
  return {
    add(name, value = 1, { unit = 'Count', dimensions = {} } = {}) {
      const key = `${name}|${unit}|${JSON.stringify(Object.entries(dimensions).sort())}`
      const entry = entries.get(key)
      if (!entry) entries.set(key, { name, unit, dimensions, values: [value] })
      else if (unit === 'Count') entry.values[0] = (entry.values[0] ?? 0) + value
      // EMF takes at most 100 values per metric in one line.
      else if (entry.values.length < 100) entry.values.push(value)
    },
    flush() {
      if (entries.size === 0) return
      const gathered = entries
      entries = new Map()
      // One line per set of dimension values, carrying every metric gathered with them.
      const lines = new Map<string, Entry[]>()
      for (const entry of gathered.values()) {
        const key = JSON.stringify(Object.entries(entry.dimensions).sort())
        lines.set(key, [...(lines.get(key) ?? []), entry])
      }
      for (const group of lines.values()) {
        const dimensions = (group[0] as Entry).dimensions
        write(
          JSON.stringify({
            _aws: {
              Timestamp: now(),
              CloudWatchMetrics: [
                {
                  Namespace: options.namespace,
                  Dimensions: dimensionSets(dimensions),
                  Metrics: group.map((entry) => ({ Name: entry.name, Unit: entry.unit })),
                },
              ],
            },
            Service: options.service,
            ...dimensions,
            ...Object.fromEntries(
              group.map((entry) => [
                entry.name,
                entry.values.length === 1 ? entry.values[0] : entry.values,
              ]),
            ),
          }),
        )
      }
    },
  }
}

/** The metrics a configuration asks for: EMF lines, or nothing. */
export function metricsFor(
  config: { readonly namespace: string; readonly service: string } | undefined,
): Metrics {
  return config ? emfMetrics(config) : noMetrics
}
