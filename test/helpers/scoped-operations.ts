/**
 * Every operation of an OpenAPI document that names a domain (`{name}`, or the domains of
 * `/dns-batch`) or a DNS-host instance (`{instanceId}`), as a request naming `domain` or
 * `instanceId` (the admin's routes aside): what a tenant-scope test sends, so that a new route cannot forget the check.
 */
export function scopedOperations(
  doc: { paths: Record<string, object> },
  domain: string,
  instanceId: string,
): { method: string; path: string; body?: unknown }[] {
  const operations: { method: string; path: string; body?: unknown }[] = []
  for (const [template, item] of Object.entries(doc.paths)) {
    // The admin's routes act on every tenant's domains (and answer 401 to a tenant's key).
    if (template.startsWith('/admin/')) continue
    const methods = Object.keys(item).filter((method) =>
      ['get', 'put', 'post', 'delete', 'patch'].includes(method),
    )
    for (const method of methods) {
      if (template === '/dns-batch') {
        operations.push({
          method: method.toUpperCase(),
          path: template,
          body: { domains: [domain], aliyunDns: true },
        })
      } else if (template.includes('{name}') || template.includes('{instanceId}')) {
        const path = template
          .replace('{name}', domain)
          .replace('{instanceId}', instanceId)
          .replace('{keyTag}', '1')
        operations.push({
          method: method.toUpperCase(),
          path,
          body: method === 'get' ? undefined : {},
        })
      }
    }
  }
  return operations
}
