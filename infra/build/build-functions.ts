import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { build, type Metafile, type Plugin } from 'esbuild'
import { createZip } from './zip.ts'

const require = createRequire(import.meta.url)

/**
 * Zod's main entry re-exports every message locale (about 260 KB minified) although only the
 * default English one is used. This plugin gives the bundle a locales module with `en` alone.
 */
export const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${'node_modules'}/zod/`)
        ? { path: 'zod-locales', namespace: 'zod-locales' }
        : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, () => {
      const english = require.resolve('zod/v4/locales/en.js')
      return {
        contents: `export { default as en } from ${JSON.stringify(english)}`,
        resolveDir: dirname(english),
      }
    })
  },
}

export const FUNCTIONS = ['api', 'poller', 'sync', 'drift'] as const
export type FunctionName = (typeof FUNCTIONS)[number]

/**
 * Static files a function serves, copied beside its bundle into the zip. Read from disk only when
 * asked for (the API reference's renderer at `/docs`), so they add nothing to a cold start.
 */
const STATIC_ASSETS: Readonly<Record<string, readonly { from: string; name: string }[]>> = {
  api: [{ from: 'redoc/bundles/redoc.standalone.js', name: 'redoc.standalone.js' }],
}

export interface BuiltFunction {
  readonly name: string
  readonly bundle: string
  readonly zip: string
  /** What a cold start loads: the entry and its static chunks (lazily imported ones are not counted). */
  readonly bundleBytes: number
  readonly zipBytes: number
  readonly metafile: Metafile
}

/**
 * Bundles one Lambda entry into minified ESM (index.mjs and its lazily loaded chunks) with source
 * maps, and zips them.
 * `mainFields: ['module', 'main']` makes esbuild take the AWS SDK's ESM build; CommonJS
 * dependencies get a `require` through the banner.
 */
export async function buildFunction(
  entry: string,
  name: string,
  outDir = 'dist',
): Promise<BuiltFunction> {
  const dir = join(outDir, name)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const bundle = join(dir, 'index.mjs')
  const result = await build({
    entryPoints: { index: entry },
    outdir: dir,
    // What is reached only through `import()` (each API route group, the OpenAPI document, the
    // HTTP client pool, the SSM and SQS clients) goes into chunks beside index.mjs, read when
    // first used rather than parsed at every cold start.
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    plugins: [zodEnglishOnly],
    metafile: true,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
  })
  for (const asset of STATIC_ASSETS[name] ?? []) {
    await copyFile(require.resolve(asset.from), join(dir, asset.name))
  }
  const assetNames = new Set((STATIC_ASSETS[name] ?? []).map((asset) => asset.name))
  const files = (await readdir(dir))
    .filter((file) => file.endsWith('.mjs') || file.endsWith('.mjs.map') || assetNames.has(file))
    .sort()
  const zip = join(outDir, `${name}.zip`)
  const archive = createZip(
    await Promise.all(
      files.map(async (file) => ({ name: file, data: await readFile(join(dir, file)) })),
    ),
  )
  await writeFile(zip, archive)
  await writeFile(join(dir, 'meta.json'), JSON.stringify(result.metafile))
  const bundleBytes = startupOutputs(result.metafile).reduce(
    (sum, [, output]) => sum + output.bytes,
    0,
  )
  return { name, bundle, zip, bundleBytes, zipBytes: archive.length, metafile: result.metafile }
}

/**
 * The output files a cold start loads: the entry and every chunk it imports statically. Chunks
 * reached only by `import()` load later, if ever.
 */
export function startupOutputs(metafile: Metafile): [string, Metafile['outputs'][string]][] {
  const outputs = metafile.outputs
  // Chunks loaded by import() are entry points too; the function's own entry is index.mjs.
  const entry = Object.keys(outputs).find((path) => path.endsWith('/index.mjs'))
  const seen = new Set<string>()
  const queue = entry ? [entry] : []
  while (queue.length > 0) {
    const path = queue.shift() as string
    if (seen.has(path)) continue
    seen.add(path)
    for (const imported of outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && outputs[imported.path]) queue.push(imported.path)
    }
  }
  return [...seen].map((path) => [path, outputs[path] as Metafile['outputs'][string]])
}

export function buildAllFunctions(outDir = 'dist'): Promise<BuiltFunction[]> {
  return Promise.all(
    FUNCTIONS.map((name) => buildFunction(`functions/${name}/handler.ts`, name, outDir)),
  )
}
