import type { ApiKey } from './api-keys.ts'

export interface ApiKeyStore {
  create(key: ApiKey): Promise<boolean>
  get(id: string): Promise<ApiKey | undefined>
  /** Replaces the key if it is still at `expectedVersion`. */
  replace(next: ApiKey, expectedVersion: number): Promise<boolean>
  list(limit: number): Promise<ApiKey[]>
}
