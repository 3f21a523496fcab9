import type { ApiKey } from './api-keys.ts'

export interface ApiKeyCacheOptions {
  /** How long a key read from the store is trusted (0: every request reads the store). */
  readonly ttlMs: number
  readonly now: () => number
  /** At most this many keys are kept; the oldest entry goes first. */
  readonly maxEntries?: number
}

/** A read by id through this instance's cache, and how to drop one id from it. */
export interface CachedLookup<T> {
  get(id: string): Promise<T | undefined>
  /** Drops the id (after it was changed here), so the next `get` reads the store. */
  forget(id: string): void
}

/**
 * Lookups by id cached in the function for `ttlMs` (API keys for authentication, tenants' scopes,
 * a domain's DS records at the registry):
 * a warm API instance reads a caller's key once per `ttlMs`, not once per request. The price is stated, not hidden: a key
 * revoked (or its scopes changed) by another instance keeps working here for at most `ttlMs`.
 * Unknown ids are kept as unknown for as long, so an unknown id and a known one (with a wrong
 * secret) cost the same store reads: a caller cannot tell them apart by cost or time. (Only an id
 * tried here before its key was created elsewhere waits out `ttlMs`; ids are random.)
 */
export function cachedLookup<T>(
  read: (id: string) => Promise<T | undefined>,
  options: ApiKeyCacheOptions,
): CachedLookup<T> {
  const maxEntries = options.maxEntries ?? 1_000
  // Promises are kept, so reads of one id at the same moment share one store read; a failed read
  // is not kept.
  const entries = new Map<string, { value: Promise<T | undefined>; until: number }>()
  return {
    get(id) {
      if (options.ttlMs <= 0) return read(id)
      const now = options.now()
      const cached = entries.get(id)
      if (cached && cached.until > now) return cached.value
      entries.delete(id)
      const entry = { value: read(id), until: now + options.ttlMs }
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
      entries.set(id, entry)
      entry.value.catch(() => {
        if (entries.get(id) === entry) entries.delete(id)
      })
      return entry.value
    },
    forget(id) {
      entries.delete(id)
    },
  }
}

/** API keys by id, cached as above. */
export const cachedKeyLookup = (
  read: (id: string) => Promise<ApiKey | undefined>,
  options: ApiKeyCacheOptions,
) => cachedLookup(read, options)
