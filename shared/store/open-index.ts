import { shardOf } from './shard.ts'

/**
 * The sparse open-work index's attributes (`byOpen`): an item carries them exactly while work
 * lies ahead of it (a task not final or its callback not sent, a running change, an event not
 * yet delivered), so the due-index sweep reads open work only.
 */
export function openIndexKeys(
  id: string,
  open: boolean,
  shardCount: number,
): Record<string, string> {
  return open ? { openShard: `OPEN#${shardOf(id, shardCount)}`, openSk: id } : {}
}

/** The sparse due index's attributes (`due`): only an item with work due carries them. */
export function dueIndexKeys(
  id: string,
  dueAt: number | undefined,
  shardCount: number,
): { dueAt: number; dueShard: string } | Record<string, never> {
  return dueAt === undefined ? {} : { dueAt, dueShard: `DUE#${shardOf(id, shardCount)}` }
}
