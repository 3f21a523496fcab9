import { createHash } from 'node:crypto'

/** The index shard of an id (due and open-work indexes): stable, evenly spread. */
export function shardOf(id: string, shardCount: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % shardCount
}
