import { describe, expect, it } from 'vitest'
import { traceIdFrom } from './invocation.ts'

describe('traceIdFrom', () => {
  it("takes the Root of Lambda's X-Ray trace header", () => {
    expect(
      traceIdFrom('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1'),
    ).toBe('1-5759e988-bd862e3fe1be46a994272793')
    expect(traceIdFrom('Parent=1;Root=1-abc;Sampled=0')).toBe('1-abc')
    expect(traceIdFrom(undefined)).toBeUndefined()
    expect(traceIdFrom('Sampled=1')).toBeUndefined()
  })
})
