/**
 * Reads shared for a short time per key: concurrent and repeated reads of one key reach the
 * service once per `ttlMs` (the registry's DS records of a domain, read by many clients at once,
 * spend the Alibaba quota every tenant shares once). A failed read is not kept.
 */
export function sharedReads<T>(
  read: (key: string) => Promise<T>,
  options: { readonly ttlMs: number; readonly now: () => number; readonly maxEntries?: number },
): (key: string) => Promise<T> {
  const maxEntries = options.maxEntries ?? 1_000
  const entries = new Map<string, { value: Promise<T>; until: number }>()
  return (key) => {
    if (options.ttlMs <= 0) return read(key)
    const now = options.now()
    const kept = entries.get(key)
    if (kept && kept.until > now) return kept.value
    entries.delete(key)
    const entry = { value: read(key), until: now + options.ttlMs }
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
    entries.set(key, entry)
    entry.value.catch(() => {
      if (entries.get(key) === entry) entries.delete(key)
    })
    return entry.value
  }
}
