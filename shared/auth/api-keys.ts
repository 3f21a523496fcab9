import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Scope } from '../tasks/task.ts'

/**
 * API keys look like `dgw_<id>_<secret>`: the id (16 lower-case base32 characters) finds the
 * stored record, the whole key is compared by its SHA-256. The key is shown once and never stored.
 */
const KEY_PATTERN = /^dgw_([a-z2-7]{16})_([A-Za-z0-9_-]{43})$/
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/

export interface WebhookSecret {
  readonly secret: string
  readonly createdAt: string
  /** Set when a newer secret replaced it: signatures with it stop after this instant. */
  readonly expiresAt?: string | undefined
}

export interface ApiKey {
  readonly id: string
  readonly tenant: string
  readonly scopes: readonly Scope[]
  readonly keyHash: string
  readonly callbackUrl?: string | undefined
  readonly webhookSecrets: readonly WebhookSecret[]
  readonly createdAt: string
  readonly revokedAt?: string | undefined
  readonly version: number
}

export type RandomBytes = (size: number) => Buffer

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

function base32(bytes: Buffer, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) out += BASE32[(bytes[i] as number) % 32]
  return out
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** What an API key id looks like (16 base32 characters); any other string names no key. */
export const API_KEY_ID_PATTERN = /^[a-z2-7]{16}$/

export function generateApiKey(random: RandomBytes = randomBytes): {
  id: string
  key: string
  hash: string
} {
  const id = base32(random(16), 16)
  const key = `dgw_${id}_${random(32).toString('base64url')}`
  return { id, key, hash: hashApiKey(key) }
}

/** The id inside a well-formed key; undefined for anything else. */
export function apiKeyId(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1]
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const actual = Buffer.from(hashApiKey(key), 'hex')
  const expected = Buffer.from(storedHash, 'hex')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** `whsec_` + base64 of 32 random bytes, as Standard Webhooks receivers expect. */
export function generateWebhookSecret(random: RandomBytes = randomBytes): string {
  return `whsec_${random(32).toString('base64')}`
}

/** The secrets that sign callbacks now: the newest, and any still in their grace period. */
export function activeWebhookSecrets(key: ApiKey, now: number): string[] {
  return key.webhookSecrets
    .filter((secret) => !secret.expiresAt || Date.parse(secret.expiresAt) > now)
    .map((secret) => secret.secret)
}
