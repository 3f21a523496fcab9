import { randomBytes } from 'node:crypto'

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
