#!/usr/bin/env node
// The CLI's entry: runs the TypeScript source through tsx (a dependency of this package).
import { tsImport } from 'tsx/esm/api'

const { main } = await tsImport('../src/cli.ts', import.meta.url)
process.exitCode = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
})
