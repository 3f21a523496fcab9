import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  ALL_VARIABLES,
  CONFIG_REFERENCE_PATH,
  DEPLOYED_VARIABLES,
  ROWS,
  renderConfigReference,
} from '../../scripts/config-reference.ts'

/**
 * The zod schemas are the one source of every setting and its default; docs/configuration.md is
 * generated from them (`npm run docs:config`), so a default changed in code and not in the page,
 * or a variable left out of it, fails CI.
 */
describe('the configuration reference', () => {
  it('is the page the schemas render now', () => {
    expect(readFileSync(CONFIG_REFERENCE_PATH, 'utf8')).toBe(renderConfigReference())
  })

  it('lists every variable the deployed functions read, and only variables a program reads', () => {
    const listed = new Set(ROWS.flatMap((row) => row.variables))
    expect(Object.keys(DEPLOYED_VARIABLES).filter((variable) => !listed.has(variable))).toEqual([])
    expect([...listed].filter((variable) => !(variable in ALL_VARIABLES))).toEqual([])
  })

  it('renders most defaults from the schemas, stating in words only what they cannot give', () => {
    const rendered = ROWS.filter((row) => 'defaults' in row).length
    expect(rendered).toBeGreaterThanOrEqual(35)
    // A schema default that is stated in words instead would drift: each such row has none.
    for (const row of ROWS) {
      if (!('stated' in row) || row.variables.length !== 1) continue
      const parsed = ALL_VARIABLES[row.variables[0] as string]?.safeParse(undefined)
      const plain = /^(`[^`]*`|-?\d+(\.\d+)?)$/.test(row.stated)
      expect(plain && parsed?.success && parsed.data !== undefined, row.variables[0]).toBe(false)
    }
  })
})
