import { defineConfig } from 'vitest/config'

/**
 * The store, API and pipeline tests run twice: on the embedded dynalite, and on moto_server, which
 * follows DynamoDB more closely where the two differ (e.g. it returns the item that failed a
 * condition, in raw attribute-value form). Where they differ, DynamoDB's documentation decides.
 */
const ON_BOTH_ENGINES = [
  'test/absence-proof.test.ts',
  'test/adversarial-service.test.ts',
  'test/api-auth.test.ts',
  'test/api-fuzz.test.ts',
  'test/api-hardening.test.ts',
  'test/api-idempotency.test.ts',
  'test/api-keep-alive.test.ts',
  'test/api-routes.test.ts',
  'test/api-upstream-errors.test.ts',
  'test/api-validation.test.ts',
  'test/upstream-rate.test.ts',
  'test/callback-isolation.test.ts',
  'test/callback-url-entry.test.ts',
  'test/claim-lease.test.ts',
  'test/desired-state.test.ts',
  'test/domain-managers.test.ts',
  'test/events.test.ts',
  'test/fair-queue.test.ts',
  'test/due-sweep.test.ts',
  'test/pipeline.test.ts',
  'test/preflight-safety.test.ts',
  'test/publication.test.ts',
  'test/poller-fan-out.test.ts',
  'test/refusal-is-final.test.ts',
  'test/poller-reliability.test.ts',
  'test/rate-limits.test.ts',
  'test/scheduled-sync.test.ts',
  'test/ssrf.test.ts',
  'test/lost-answer-races.test.ts',
  'test/store-lost-answers.test.ts',
  'test/upstream-error-classes.test.ts',
  'test/task-queue.test.ts',
  'test/tenant-scope.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // The AWS SDK warns once per process about Node 20; the Lambda runtime is Node 22.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'dynalite',
          include: [
            'shared/**/*.test.ts',
            'functions/**/*.test.ts',
            'infra/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          // The reliability suite has its own command and config (npm run test:reliability);
          // the interoperability tests need system servers (npm run test:interop).
          exclude: ['test/reliability/**', 'test/interop/**', 'node_modules/**'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // Against DNS servers installed on the machine (BIND 9; .ci/run installs them).
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'moto',
          include: ON_BOTH_ENGINES,
          // moto_server answers one request at a time, several times slower than dynalite.
          testTimeout: 60_000,
          env: {
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            TEST_DYNAMODB_ENGINE: 'moto',
          },
        },
      },
    ],
  },
})
