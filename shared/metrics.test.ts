import { describe, expect, it } from 'vitest'
import { emfMetrics, metricsFor, noMetrics } from './metrics.ts'

function capture() {
  const lines: Record<string, unknown>[] = []
  const metrics = emfMetrics({
    namespace: 'DomainGateway',
    service: 'gw-test',
    now: () => 1_795_000_000_000,
    write: (line) => lines.push(JSON.parse(line)),
  })
  return { lines, metrics }
}

describe('EMF metrics', () => {
  it('sums counts per metric and dimensions and writes one EMF line each at flush', () => {
    const { lines, metrics } = capture()
    metrics.add('TasksAccepted', 1, { dimensions: { Action: 'ds.add' } })
    metrics.add('TasksAccepted', 1, { dimensions: { Action: 'ds.add' } })
    metrics.add('TasksAccepted', 1, { dimensions: { Action: 'dns.batch' } })
    expect(lines).toEqual([])
    metrics.flush()
    expect(lines).toHaveLength(2)
    expect(lines[0]).toEqual({
      _aws: {
        Timestamp: 1_795_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'DomainGateway',
            Dimensions: [['Service'], ['Service', 'Action']],
            Metrics: [{ Name: 'TasksAccepted', Unit: 'Count' }],
          },
        ],
      },
      Service: 'gw-test',
      Action: 'ds.add',
      TasksAccepted: 2,
    })
    expect(lines[1]).toMatchObject({ Action: 'dns.batch', TasksAccepted: 1 })
    // Flushed means gone: the next flush writes only what came after.
    metrics.flush()
    expect(lines).toHaveLength(2)
  })

  it('keeps each dimension apart and every non-count value (up to 100)', () => {
    const { lines, metrics } = capture()
    metrics.add('UpstreamErrors', 1, {
      dimensions: { Code: 'Throttling.User', Retryability: 'retryable' },
    })
    for (let i = 0; i < 120; i++) metrics.add('OldestDueAgeSeconds', i, { unit: 'Seconds' })
    metrics.flush()
    type Line = { _aws: { CloudWatchMetrics: { Dimensions: string[][]; Metrics: unknown }[] } }
    const [errors, age] = lines as [Line, Line & { OldestDueAgeSeconds: number[] }]
    expect(errors._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['Service'],
      ['Service', 'Code'],
      ['Service', 'Retryability'],
    ])
    expect(age.OldestDueAgeSeconds).toHaveLength(100)
    expect(age.OldestDueAgeSeconds.slice(0, 3)).toEqual([0, 1, 2])
    expect(age._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'OldestDueAgeSeconds', Unit: 'Seconds' },
    ])
  })

  it('is off unless configured', () => {
    expect(metricsFor(undefined)).toBe(noMetrics)
    expect(metricsFor({ namespace: 'N', service: 's' })).not.toBe(noMetrics)
  })
})

describe('log lines during an invocation', () => {
  it('carry the invocation fields until the next invocation replaces them', async () => {
    const { createLogger, setInvocationFields } = await import('./logger.ts')
    const lines: Record<string, unknown>[] = []
    const logger = createLogger({ write: (line) => lines.push(JSON.parse(line)) }).child({
      component: 'poller',
    })
    setInvocationFields({ awsRequestId: 'r-1', coldStart: true, traceId: 't-1' })
    logger.info('one')
    setInvocationFields({ awsRequestId: 'r-2', coldStart: false, traceId: 't-2' })
    logger.info('two')
    setInvocationFields({})
    expect(lines[0]).toMatchObject({
      msg: 'one',
      awsRequestId: 'r-1',
      coldStart: true,
      component: 'poller',
    })
    expect(lines[1]).toMatchObject({ msg: 'two', coldStart: false, traceId: 't-2' })
  })
})
