export type ResponseFormat = 'JSON' | 'XML'

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ESCAPES[char] as string)
}

/**
 * Lists that the service's XML wraps in an element of their own, with the name of each item:
 * `<DSRecordList><DSRecord>…</DSRecord></DSRecordList>`, `<IpList><ip>…</ip></IpList>`. Empty
 * ones are written too. Other lists are repeated elements (`<TaskDetail>…</TaskDetail>…`).
 */
const WRAPPED_LISTS: Readonly<Record<string, string>> = {
  DSRecordList: 'DSRecord',
  DnsHostList: 'DnsHost',
  IpList: 'ip',
}

function toXml(name: string, value: unknown): string {
  const item = WRAPPED_LISTS[name]
  if (item && Array.isArray(value)) {
    return `<${name}>${value.map((entry) => toXml(item, entry)).join('')}</${name}>`
  }
  if (Array.isArray(value)) return value.map((entry) => toXml(name, entry)).join('')
  if (value !== null && typeof value === 'object') {
    const inner = Object.entries(value)
      .filter(([, child]) => child !== undefined)
      .map(([key, child]) => toXml(key, child))
      .join('')
    return `<${name}>${inner}</${name}>`
  }
  return `<${name}>${escapeXml(String(value ?? ''))}</${name}>`
}

/**
 * Serialises an answer as the service does: JSON as is, or XML under `<{root}>` with lists
 * written as repeated elements (`<TaskDetail>..</TaskDetail><TaskDetail>..</TaskDetail>`).
 */
export function renderBody(format: ResponseFormat, root: string, body: object): string {
  if (format === 'JSON') return JSON.stringify(body)
  return `<?xml version='1.0' encoding='UTF-8'?>${toXml(root, body)}`
}

export function contentTypeOf(format: ResponseFormat): string {
  return format === 'JSON' ? 'application/json;charset=utf-8' : 'text/xml;charset=utf-8'
}
