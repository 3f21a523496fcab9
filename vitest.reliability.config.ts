import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    // RELIABILITY_CPU_HOGS=N: N CPU-bound processes for the whole run (see cpu-hogs.ts).
    globalSetup: ['test/reliability/cpu-hogs.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
})
