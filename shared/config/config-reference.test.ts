import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { EmulatorEnvSchema } from '../../infra/emulator/emulator-config.ts'
import { LocalEnvSchema } from '../../infra/local/local-config.ts'
import { GatewayEnvSchema } from './gateway-config.ts'
import { UpstreamEnvSchema } from './upstream-config.ts'
import { WorkerEnvSchema } from './worker-config.ts'

/**
 * The zod schemas are the one source of every setting and its default; the configuration reference's
 * table (docs/configuration.md) is checked against them, so a default changed in code and not in the reference (or a new
 * variable left out of it) fails CI.
 */
const DEPLOYED = { ...UpstreamEnvSchema.shape, ...GatewayEnvSchema.shape, ...WorkerEnvSchema.shape }
const ALL: Record<string, z.ZodType> = {
  ...EmulatorEnvSchema.shape,
  ...LocalEnvSchema.shape,
  ...DEPLOYED,
}

/** The reference's rows: variables and the default column, split where a row names several. */
function referenceRows(): { variable: string; stated: string | undefined }[] {
  const section = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8')
  const rows: { variable: string; stated: string | undefined }[] = []
  for (const line of section.split('\n')) {
    const cells = line.split(' | ')
    if (!line.startsWith('| `') || cells.length < 3) continue
    const variables = [...(cells[0] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1] as string)
    const stated = (cells[1] ?? '').trim()
    const parts = stated.split(/,\s+(?![^(]*\))/)
    variables.forEach((variable, index) => {
      // One default per variable when the row lists as many; otherwise it speaks of them together.
      rows.push({
        variable,
        stated:
          parts.length === variables.length
            ? parts[index]
            : variables.length === 1
              ? stated
              : undefined,
      })
    })
  }
  return rows
}

/** What a default looks like in the reference: numbers and words as they are, lists joined. */
function rendered(value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (value instanceof RegExp) return value.source
  if (Array.isArray(value)) return value.join(',')
  return String(value)
}

/** A plain stated default: a number or one `code` span, with nothing after it. */
function plainDefault(stated: string): string | undefined {
  const code = /^`([^`]*)`$/.exec(stated)
  if (code) return code[1]
  return /^-?\d+(\.\d+)?$/.test(stated) ? stated : undefined
}

describe('the configuration reference', () => {
  it('lists every variable the deployed functions read', () => {
    const listed = new Set(referenceRows().map((row) => row.variable))
    const missing = Object.keys(DEPLOYED).filter((variable) => !listed.has(variable))
    expect(missing).toEqual([])
  })

  it('states each default the schemas give it', () => {
    const wrong: string[] = []
    let checked = 0
    for (const { variable, stated } of referenceRows()) {
      const schema = ALL[variable]
      if (!schema || stated === undefined) continue
      const plain = plainDefault(stated)
      if (plain === undefined) continue
      const result = schema.safeParse(undefined)
      if (!result.success) continue
      const actual = rendered(result.data)
      // Durations kept in ms in code and stated in seconds in the reference read either way.
      const asSeconds = Array.isArray(result.data)
        ? result.data.map((v) => (typeof v === 'number' ? v / 1000 : v)).join(',')
        : undefined
      checked++
      if (actual !== plain && asSeconds !== plain && !(plain === 'off' && actual === undefined)) {
        wrong.push(`${variable}: the reference says ${plain}, the schema ${actual}`)
      }
    }
    expect(wrong).toEqual([])
    expect(checked).toBeGreaterThan(40)
  })
})
