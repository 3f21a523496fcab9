import { loadSettings, type Settings } from '#shared/composition/settings.ts'

/** The settings of a deployment that sets only its credential: every default, as the root has it. */
export const DEFAULTS: Settings = loadSettings({
  ALIYUN_ACCESS_KEY_ID: 'test-access-key-id',
  ALIYUN_ACCESS_KEY_SECRET: 'test-access-key-secret',
})
