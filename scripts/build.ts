import { buildAllFunctions } from '#infra/build/build-functions.ts'

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
const built = await buildAllFunctions()
for (const fn of built) {
  console.log(
    `${fn.name.padEnd(7)} ${fn.bundle.padEnd(22)} ${kib(fn.bundleBytes).padStart(10)}   ${fn.zip.padEnd(16)} ${kib(fn.zipBytes).padStart(10)}`,
  )
}
