import type { EmulatorOptions } from '#infra/emulator/app.ts'
import { behaviourFor } from '#infra/emulator/behaviour.ts'
import {
  type ParentZoneSettings,
  type RunningEmulator,
  startEmulator,
} from '#infra/emulator/server.ts'
import { DomainApiClient } from '#shared/aliyun/domain-api-client.ts'
import type { DomainApiClientDeps } from '#shared/aliyun/domain-api-types.ts'
import { loadDomainApiSettings } from '#shared/composition/upstream-env.ts'

export const TEST_CREDENTIAL = {
  accessKeyId: 'LTAItestKeyId000001',
  accessKeySecret: 'test-secret-for-the-emulator',
} as const

export const SHA256_DIGEST = 'f58fa917424383934c7b0cf1a90f61d692745680fa06f5ecdbe0924e86de9598'

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms = Date.UTC(2026, 10, 22, 12, 0, 0)) {}
  now = (): number => this.ms
  advance(ms: number): void {
    this.ms += ms
  }
}

/**
 * The emulator's behaviour profile for this test run: `EMULATOR_PROFILE=adversarial` varies what
 * the documents leave open (see infra/emulator/behaviour.ts); the documented one otherwise.
 */
export const TEST_EMULATOR_PROFILE =
  process.env.EMULATOR_PROFILE === 'adversarial' ? 'adversarial' : 'documented'

export async function startTestEmulator(
  options: Partial<EmulatorOptions> & { parentZone?: ParentZoneSettings } = {},
): Promise<RunningEmulator> {
  const behaviour = options.account?.behaviour ?? behaviourFor(TEST_EMULATOR_PROFILE)
  return startEmulator({
    credentials: [TEST_CREDENTIAL],
    ...options,
    account: { ...options.account, behaviour },
  })
}

export function clientFor(
  emulator: { url: string },
  env: Record<string, string> = {},
  deps: Partial<DomainApiClientDeps> = {},
): DomainApiClient {
  const config = loadDomainApiSettings({
    ALIYUN_ENDPOINT: emulator.url,
    ALIYUN_ACCESS_KEY_ID: TEST_CREDENTIAL.accessKeyId,
    ALIYUN_ACCESS_KEY_SECRET: TEST_CREDENTIAL.accessKeySecret,
    ALIYUN_TIMEOUT_MS: '2000',
    ...env,
  })
  return new DomainApiClient({ config, sleep: async () => {}, ...deps })
}

/** The emulator's registry tasks for a domain (alone or in a batch), oldest first. */
export function upstreamTasksFor(emulator: RunningEmulator, domain: string) {
  return [...emulator.account.tasks.values()]
    .filter(
      (task) =>
        ('domain' in task.kind && task.kind.domain === domain) ||
        ('domains' in task.kind && task.kind.domains.includes(domain)),
    )
    .sort((a, b) => a.createdAt - b.createdAt)
}
