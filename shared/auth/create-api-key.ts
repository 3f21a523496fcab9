/** A new API key and its first webhook secret: both answered once, neither stored in clear. */
import { requireWritten } from '../errors.ts'
import type { ApiKeyStore } from './api-key-store.ts'
import {
  type ApiKey,
  apiKeyId,
  generateApiKey,
  generateWebhookSecret,
  hashApiKey,
  type RandomBytes,
} from './api-keys.ts'

export interface CreateApiKeyDeps {
  readonly apiKeys: Pick<ApiKeyStore, 'create'>
  readonly now: () => number
  readonly randomBytes: RandomBytes
}

export interface NewApiKey {
  readonly tenant: string
  readonly scopes: ApiKey['scopes']
  readonly callbackUrl?: string | undefined
}

/**
 * Creates an API key (or registers `existingKey`, as `npm start` does with a key it keeps) with a
 * fresh webhook secret; a key whose id exists is refused.
 */
export async function createApiKey(deps: CreateApiKeyDeps, input: NewApiKey, existingKey?: string) {
  const generated = generateApiKey(deps.randomBytes)
  const key = existingKey ?? generated.key
  const id = existingKey ? (apiKeyId(existingKey) ?? generated.id) : generated.id
  const webhookSecret = generateWebhookSecret(deps.randomBytes)
  const createdAt = new Date(deps.now()).toISOString()
  const record: ApiKey = {
    id,
    tenant: input.tenant,
    scopes: input.scopes,
    keyHash: hashApiKey(key),
    callbackUrl: input.callbackUrl,
    webhookSecrets: [{ secret: webhookSecret, createdAt }],
    createdAt,
    version: 1,
  }
  requireWritten(await deps.apiKeys.create(record), 'An API key with this id exists.')
  return {
    id,
    key,
    tenant: record.tenant,
    scopes: record.scopes,
    callbackUrl: record.callbackUrl,
    webhookSecret,
  }
}
