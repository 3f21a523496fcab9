import { createHash, randomBytes } from 'node:crypto'
import * as z from 'zod'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** A random id of base62 characters with a prefix, e.g. `tsk_4fJ9…`. */
export function randomId(
  prefix: string,
  length = 24,
  random: (size: number) => Buffer = randomBytes,
): string {
  const bytes = random(length)
  let id = ''
  // 62 does not divide 256; the tiny bias is irrelevant for unguessable ids of this length.
  for (const byte of bytes) id += ALPHABET[byte % 62]
  return `${prefix}_${id}`
}

export const newTaskId = (): string => randomId('tsk')

/**
 * The id of the task a tenant's Idempotency-Key names: the same for every request with that key,
 * so the task's creation is the key's claim (one conditional write for both). 32 base62
 * characters of SHA-256 over the tenant and the key; another tenant's key never names it.
 */
export function keyedTaskId(tenant: string, key: string): string {
  return randomId('tsk', 32, () => createHash('sha256').update(`${tenant}\n${key}`).digest())
}

/** What a task id looks like; any other string names no task (and never reaches the store). */
export const TaskIdSchema = z.string().regex(/^tsk_[A-Za-z0-9]{10,40}$/)
