import type { BucketState } from './token-bucket.ts'

/** The shared bucket of one account: read, and written only if nobody wrote it meanwhile. */
export interface BucketStore {
  read(account: string): Promise<{ state: BucketState; version: number } | undefined>
  write(account: string, state: BucketState, expectedVersion: number | undefined): Promise<boolean>
}
