import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { PROBLEM_TYPES } from './request/problem.ts'

/** Where `/docs` loads its renderer from (same origin: the page works with no other network). */
export const DOCS_SCRIPT_PATH = '/docs/redoc.standalone.js'

/**
 * The API reference page: Redoc renders `/openapi.json` (operations, schemas, examples, search,
 * the webhooks). The problem types follow as plain HTML, so `/docs#problem-<slug>` (every
 * problem's `type`) lands on its explanation.
 */
export function docsPage(): string {
  const problems = Object.entries(PROBLEM_TYPES)
    .map(
      ([slug, text]) =>
        `<li id="problem-${slug}"><code>${slug}</code>: ${escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>')}</li>`,
    )
    .join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>domain-gateway API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#222}
#problems{max-width:60rem;margin:2rem auto;padding:0 1rem 3rem}
#problems code{font:13px ui-monospace,monospace;background:#f5f5f5;border-radius:4px;padding:0 .2rem}
#fallback{max-width:60rem;margin:2rem auto;padding:0 1rem}
</style></head><body>
<div id="reference"><p id="fallback">Loading the API reference… (machine-readable:
<a href="/openapi.json">/openapi.json</a>, OpenAPI 3.1)</p></div>
<section id="problems"><h2>Problem types</h2>
<p>Errors are <code>application/problem+json</code> (RFC 9457); their <code>type</code> points here.</p>
<ul>${problems}</ul></section>
<script src="${DOCS_SCRIPT_PATH}"></script>
<script>
(function(){
  var target=document.getElementById('reference');
  if(!window.Redoc){target.textContent='The renderer did not load; the document is at /openapi.json.';return}
  Redoc.init('/openapi.json',{hideDownloadButton:false,expandResponses:'200,202',jsonSampleExpandLevel:3,
    pathInMiddlePanel:true,sortTagsAlphabetically:false,theme:{typography:{fontFamily:'system-ui, sans-serif',headings:{fontFamily:'system-ui, sans-serif'}}}},
    target,function(){
      document.body.setAttribute('data-rendered','true');
      if(location.hash.indexOf('#problem-')===0){var el=document.getElementById(location.hash.slice(1));if(el)el.scrollIntoView()}
    });
})();
</script></body></html>`
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char] as string,
  )
}

export interface DocsAsset {
  readonly plain: Uint8Array<ArrayBuffer>
  readonly gzip: Uint8Array<ArrayBuffer>
}

let asset: Promise<DocsAsset> | undefined

/**
 * The renderer's script, read (and gzipped) at the first `/docs` visit, never at a cold start: in
 * the Lambda zip it lies beside the bundle; under `npm start` and the tests it is read from
 * node_modules.
 */
export function docsScript(): Promise<DocsAsset> {
  asset ??= readDocsScript().catch((error) => {
    asset = undefined
    throw error
  })
  return asset
}

async function readDocsScript(): Promise<DocsAsset> {
  const beside = fileURLToPath(new URL('./redoc.standalone.js', import.meta.url))
  const plain = await readFile(beside).catch(() =>
    readFile(createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js')),
  )
  // Bytes of their own (not views of Node's pooled buffers), handed to every answer as they are.
  return { plain: new Uint8Array(plain), gzip: new Uint8Array(gzipSync(plain)) }
}
