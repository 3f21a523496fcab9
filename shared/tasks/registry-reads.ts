import type { TargetLockStore } from './target-locks.ts'

/**
 * A domain's registry view (its DS records), read through a short per-instance cache that never
 * answers an older view than the gateway's own last change of the domain. Every task of the
 * gateway holds its domains from before it is sent until after it is final, and every take and
 * release bumps the domain's queue item's version; so a cached read is used only while the item
 * has the version it had when the read was made and nobody holds it. While a task holds the
 * domain every read goes to the registry. Costs one store read per call; saves the upstream ones.
 */
export function registryReads<T>(
  read: (domain: string) => Promise<T>,
  locks: Pick<TargetLockStore, 'read'>,
  options: { readonly ttlMs: number; readonly now: () => number; readonly maxEntries?: number },
): (domain: string) => Promise<T> {
  const maxEntries = options.maxEntries ?? 1_000
  const entries = new Map<string, { value: Promise<T>; until: number; version: number }>()
  return async (domain) => {
    if (options.ttlMs <= 0) return read(domain)
    const state = await locks.read(domain)
    if (state.holder !== undefined) return read(domain)
    const now = options.now()
    const cached = entries.get(domain)
    if (cached && cached.until > now && cached.version === state.version) return cached.value
    entries.delete(domain)
    const entry = { value: read(domain), until: now + options.ttlMs, version: state.version }
    if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
    entries.set(domain, entry)
    // A failed read is not kept.
    entry.value.catch(() => {
      if (entries.get(domain) === entry) entries.delete(domain)
    })
    return entry.value
  }
}
