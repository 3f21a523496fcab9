import { PROBLEM_TYPES } from './problem.ts'

/**
 * A self-contained API reference page: the OpenAPI document is fetched from `/openapi.json` and
 * rendered by a few lines of inline script, so it works with no network beyond the gateway.
 */
export function docsPage(): string {
  const problems = Object.entries(PROBLEM_TYPES)
    .map(
      ([slug, text]) => `<li id="problem-${slug}"><code>${slug}</code>: ${escapeHtml(text)}</li>`,
    )
    .join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>domain-gateway API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace;background:#f5f5f5;border-radius:4px}
pre{padding:.75rem;overflow:auto}.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:600;text-transform:uppercase}
details summary{cursor:pointer}
</style></head><body>
<h1>domain-gateway API</h1>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Authenticate with
<code>Authorization: Bearer &lt;key&gt;</code>. Submitting routes answer <code>202 Accepted</code> with
<code>Location: /tasks/{id}</code> and accept an <code>Idempotency-Key</code> header.</p>
<div id="ops">Loading…</div>
<h2>Problem types</h2><p>Errors are <code>application/problem+json</code> (RFC 9457); <code>type</code> points here.</p>
<ul>${problems}</ul>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const ops=document.getElementById('ops');ops.textContent='';
  for(const [path,item] of Object.entries(doc.paths)){for(const [method,op] of Object.entries(item)){
    const d=document.createElement('div');d.className='op';
    const h=document.createElement('h3');h.innerHTML='<span class="m"></span> <code></code>';
    h.querySelector('.m').textContent=method;h.querySelector('code').textContent=path;d.append(h);
    const p=document.createElement('p');p.textContent=op.summary||'';d.append(p);
    const det=document.createElement('details');const s=document.createElement('summary');s.textContent='Request and responses';
    const pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
    det.append(s,pre);d.append(det);ops.append(d);
  }}
}).catch(e=>{document.getElementById('ops').textContent='Could not load /openapi.json: '+e});
</script></body></html>`
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char] as string,
  )
}
