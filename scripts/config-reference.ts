/**
 * Writes docs/configuration.md from the zod schemas that parse the environment: every variable a
 * program reads is a row here, and each default is rendered from its schema (`defaults`), or,
 * where a schema has none to give (required, derived, per program), stated in words (`stated`).
 * `npm run docs:config` writes the page; a test fails when it differs from what this renders.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { z } from 'zod'
import { EmulatorEnvSchema } from '../infra/emulator/emulator-config.ts'
import { LocalEnvSchema } from '../infra/local/local-config.ts'
import { GatewayEnvSchema } from '../shared/composition/gateway-env.ts'
import { UpstreamEnvSchema } from '../shared/composition/upstream-env.ts'
import { WorkerEnvSchema } from '../shared/composition/worker-env.ts'

/** Every variable the deployed functions read. */
export const DEPLOYED_VARIABLES: Record<string, z.ZodType> = {
  ...UpstreamEnvSchema.shape,
  ...GatewayEnvSchema.shape,
  ...WorkerEnvSchema.shape,
}
/** …and those of the emulator and `npm start`. */
export const ALL_VARIABLES: Record<string, z.ZodType> = {
  ...EmulatorEnvSchema.shape,
  ...LocalEnvSchema.shape,
  ...DEPLOYED_VARIABLES,
}

/** How a schema's default is written: as it is or as `code`, in ms or in seconds (lists of ms). */
type DefaultFormat = 'plain' | 'code' | 'seconds' | 'code-seconds'

type Row = { readonly variables: readonly string[]; readonly meaning: string } & (
  | { readonly defaults: readonly DefaultFormat[] }
  | { readonly stated: string }
)

export const ROWS: readonly Row[] = [
  { variables: ['ALIYUN_ENDPOINT'], defaults: ['code'], meaning: 'Domain API endpoint' },
  {
    variables: ['ALIYUN_API_VERSION'],
    stated: 'by endpoint',
    meaning: '`2018-01-29` or `2017-12-18`',
  },
  {
    variables: ['ALIYUN_ACCESS_KEY_ID', 'ALIYUN_ACCESS_KEY_SECRET'],
    stated: 'required (local defaults under `npm start`)',
    meaning: 'credentials',
  },
  { variables: ['ALIYUN_SECURITY_TOKEN'], stated: '—', meaning: 'STS token' },
  {
    variables: ['ALIYUN_SIGNATURE_VERSION'],
    defaults: ['code'],
    meaning: '`v1` (HMAC-SHA1) or `v3` (ACS3-HMAC-SHA256)',
  },
  { variables: ['ALIYUN_HTTP_METHOD'], defaults: ['code'], meaning: '`POST` (form body) or `GET`' },
  {
    variables: ['ALIYUN_TIMEOUT_MS', 'ALIYUN_CONNECT_TIMEOUT_MS'],
    defaults: ['plain', 'plain'],
    meaning: 'per request',
  },
  { variables: ['ALIYUN_READ_RETRIES'], defaults: ['plain'], meaning: 'retries of read actions' },
  { variables: ['ALIYUN_MAX_CONNECTIONS'], defaults: ['plain'], meaning: 'keep-alive pool size' },
  {
    variables: ['ALIYUN_TIMESTAMP_WINDOW_SECONDS'],
    defaults: ['plain'],
    meaning:
      "the service's timestamp window (the absence proof's main term); change it only to match an emulator's",
  },
  {
    variables: ['ALIYUN_MAX_CLOCK_SKEW_SECONDS'],
    defaults: ['plain'],
    meaning:
      "writes are refused (`503 not-submitted`, an error log line) while the service's clock is proven further than this from ours",
  },
  {
    variables: ['UPSTREAM_RATE_PER_SECOND'],
    defaults: ['plain'],
    meaning:
      'calls per second for the whole Alibaba Cloud account, shared by every worker (API, poller, syncs) through a token bucket in the table (0: no shared limit); a throttling answer halves it for `UPSTREAM_RATE_SLOW_SECONDS`, compounding down to an eighth',
  },
  {
    variables: ['UPSTREAM_RATE_BURST', 'UPSTREAM_RATE_BATCH', 'UPSTREAM_RATE_SLOW_SECONDS'],
    stated: 'the rate (at least 1), 5, 30',
    meaning:
      "the bucket's size; tokens a worker takes at once (fewer table writes, a little less exact); how long a throttling answer slows it",
  },
  {
    variables: ['SUBMIT_SEND_WINDOW_SECONDS'],
    defaults: ['plain'],
    meaning: "attempts are signed and sent only until the intent's time plus this (`sendBy`)",
  },
  {
    variables: ['QUEUE_MAX_PER_TARGET'],
    defaults: ['plain'],
    meaning: 'tasks that may wait for one domain or instance; one more gets 429',
  },
  {
    variables: ['CALLBACK_TENANT_CONCURRENCY'],
    stated: 'half of `CALLBACK_CONCURRENCY`',
    meaning: 'deliveries of one tenant in flight at once in one poller run',
  },
  {
    variables: ['QUEUE_MAX_PER_TENANT'],
    stated: 'half of `QUEUE_MAX_PER_TARGET`',
    meaning:
      'tasks of one tenant that may wait for one domain or instance; one more of that tenant gets 429',
  },
  {
    variables: ['TENANT_SCOPES'],
    defaults: ['code'],
    meaning:
      "`strict`: a tenant the admin gave no scope acts on nothing, and an unassigned domain's desired state is nobody's (`open`: everything; the first desired-state write claims a domain)",
  },
  {
    variables: ['REGISTRY_READ_CACHE_SECONDS'],
    defaults: ['plain'],
    meaning:
      '`GET /domains/{name}/ds` answers from one registry read per domain for this long on an API instance (concurrent reads share it; 0: every read reaches Alibaba)',
  },
  {
    variables: ['RATE_LIMIT_WRITES_PER_MINUTE'],
    defaults: ['plain'],
    meaning:
      "per tenant, shared by all API instances: submissions, desired state, enrolment, other writes (0: unlimited; a tenant's record may set its own)",
  },
  {
    variables: ['RATE_LIMIT_UPSTREAM_READS_PER_MINUTE'],
    defaults: ['plain'],
    meaning: 'per tenant: requests that read Alibaba (registry reads, drift, dry runs, scans)',
  },
  {
    variables: ['RATE_LIMIT_READS_PER_MINUTE'],
    defaults: ['plain'],
    meaning: 'per tenant: other reads (tasks, changes, deliveries, states)',
  },
  {
    variables: ['RATE_LIMIT_REDELIVERIES_PER_MINUTE'],
    defaults: ['plain'],
    meaning:
      'per tenant: `POST /tasks/{id}/deliveries/redeliver`, `POST /events/{id}/redeliver`, `POST /events/recover`',
  },
  {
    variables: ['DNSSEC_TLDS'],
    defaults: ['code'],
    meaning:
      "TLDs whose domains may get DS records (the registry's documented list); a DS for another answers 422",
  },
  {
    variables: ['QUEUE_MAX_WAIT_HOURS'],
    defaults: ['plain'],
    meaning: 'a task still queued after this is rejected unsent (`QueueTimeout`)',
  },
  {
    variables: ['CHANGE_RECHECK_SECONDS'],
    stated: '15 (2 under `npm start`)',
    meaning: 'how often a running change looks at its steps when none woke it',
  },
  {
    variables: ['DRIFT_CHECK_MINUTES'],
    stated: '15 (1 under `npm start`)',
    meaning:
      "the drift check's and DNSSEC scans' rate (on AWS the `drift` function's schedule; at least 2)",
  },
  {
    variables: ['DNS_SERVER_OVERRIDES'],
    stated: '—',
    meaning:
      'JSON `{"zone or name server": ["host:port"]}`: servers to ask for a zone, or the addresses of a name server by host name (a name-server change\'s new servers), instead of looking them up (local, tests; not for production); each must be an address the callback address policy allows, or the process refuses to start',
  },
  {
    variables: ['DNS_LOOKUP'],
    defaults: ['code'],
    meaning:
      "`system`: zones and name servers not in `DNS_SERVER_OVERRIDES` are looked up with the system resolver; `overrides`: only the overrides are asked (tests, a closed lab; `npm start` sets it), so any other zone's pre-flight check is `unverified`",
  },
  {
    variables: ['PREFLIGHT_UNVERIFIED'],
    defaults: ['code'],
    meaning:
      'a change whose pre-flight check could not ask the servers that will answer for the zone: `refuse` (409 `unverified-change`, nothing written) or `proceed` (carried out, the verdict recorded; `npm start` sets it). An `unsafe` change is refused either way unless forced',
  },
  {
    variables: ['PREFLIGHT_TIMEOUT_MS'],
    defaults: ['plain'],
    meaning: "how long one domain's pre-flight check may take; past it the domain is `unverified`",
  },
  {
    variables: ['PUBLICATION_TIMEOUT_MINUTES'],
    defaults: ['plain'],
    meaning:
      'how long after a registry task succeeds the parent zone may take to serve it (a DS, a delegation); past it a `publication.late` event and the `ChangesNotPublished` metric',
  },
  {
    variables: ['PUBLICATION_CHECK_SECONDS'],
    defaults: ['code-seconds'],
    meaning: 'the waits between looks at the parent zone after a task succeeds, the last repeated',
  },
  {
    variables: ['ALIBABA_DNS_NAME_SERVERS'],
    defaults: ['code'],
    meaning:
      'comma-separated: the name servers of Alibaba Cloud DNS, asked by the pre-flight check of a move to it (`aliyunDns: true`)',
  },
  {
    variables: ['DNSSEC_STUCK_HOURS'],
    defaults: ['plain'],
    meaning: 'a rollover phase lasting longer sends `dnssec.rollover.stuck`',
  },
  {
    variables: ['DNSSEC_BOOTSTRAP_SCANS'],
    defaults: ['plain'],
    meaning: "identical TCP scans before an unsigned delegation's first DS",
  },
  {
    variables: ['DNSSEC_TRUST_ANCHORS'],
    stated: "the root's KSK-2017 and KSK-2024 (`npm start`: the emulator's TLDs)",
    meaning:
      'JSON `["<zone> IN DS <key tag> <algorithm> <digest type> <hex>", …]`: where the chains of trust of RFC 9615 bootstrap signals start',
  },
  {
    variables: ['EMULATOR_DNS_PORT', 'EMULATOR_DS_PUBLISH_DELAY_MS', 'EMULATOR_DS_TTL_SECONDS'],
    stated: 'unset, 500, 2',
    meaning: "the emulator's parent zone over DNS",
  },
  {
    variables: ['API_KEY_CACHE_SECONDS'],
    defaults: ['plain'],
    meaning:
      "how long an API instance trusts a key it read; a key revoked by another instance keeps working there for at most this long (0: read every time). Tenants' scopes and limits, and who manages a domain (for submissions), are kept as long; the key that signs a callback is read with each delivery",
  },
  {
    variables: ['METRICS'],
    stated: '`off` (`on` in the stack)',
    meaning: 'write CloudWatch EMF metric lines to stdout',
  },
  {
    variables: ['METRICS_NAMESPACE', 'METRICS_SERVICE'],
    stated: '`DomainGateway`, `domain-gateway` (stack: `domain-gateway-<stage>`)',
    meaning: "the metrics' namespace and `Service` dimension",
  },
  { variables: ['TABLE_NAME'], defaults: ['code'], meaning: 'DynamoDB table' },
  { variables: ['DYNAMODB_ENDPOINT'], stated: 'AWS', meaning: 'another DynamoDB (local engine)' },
  {
    variables: ['DYNAMODB_MAX_ATTEMPTS'],
    defaults: ['code'],
    meaning:
      'attempts per DynamoDB request (throttling, 5xx and resets retried with back-off; a write that meets its own earlier attempt counts as made)',
  },
  {
    variables: ['AWS_REGION'],
    defaults: ['code'],
    meaning: 'the AWS region (the Lambda runtime sets it)',
  },
  {
    variables: ['SSM_ENDPOINT'],
    stated: 'AWS',
    meaning: 'another SSM endpoint for the `ssm:` secret parameters (local, tests)',
  },
  { variables: ['ADMIN_API_KEY'], stated: '—', meaning: 'enables the admin API (24+ characters)' },
  { variables: ['API_MAX_BODY_BYTES'], defaults: ['plain'], meaning: 'request body limit' },
  {
    variables: ['CALLBACK_ALLOW_HTTP'],
    stated: '`false` (`true` under `npm start`)',
    meaning: 'allow `http://` callback URLs',
  },
  { variables: ['DUE_SHARDS'], defaults: ['plain'], meaning: 'shards of the due-work index' },
  {
    variables: ['TASK_RETENTION_DAYS'],
    defaults: ['plain'],
    meaning: 'how long finished tasks are kept',
  },
  { variables: ['LOG_LEVEL'], defaults: ['code'], meaning: '`debug`, `info`, `warn`, `error`' },
  {
    variables: ['CALLBACK_ALLOW_LOOPBACK'],
    stated: '`false` (`true` under `npm start`)',
    meaning: 'allow loopback callback addresses',
  },
  {
    variables: ['CALLBACK_ALLOWLIST'],
    stated: '—',
    meaning: 'CIDRs of internal receivers to allow',
  },
  { variables: ['CALLBACK_TIMEOUT_MS'], defaults: ['plain'], meaning: 'per attempt' },
  {
    variables: ['CALLBACK_RETRY_SCHEDULE'],
    defaults: ['code-seconds'],
    meaning: 'seconds before each retry',
  },
  { variables: ['CALLBACK_JITTER'], defaults: ['plain'], meaning: '± share of each retry delay' },
  {
    variables: ['CALLBACK_CONCURRENCY', 'CALLBACK_ENDPOINT_CONCURRENCY'],
    defaults: ['plain', 'plain'],
    meaning: 'deliveries in flight per poller run, and per endpoint (URL origin)',
  },
  {
    variables: ['CALLBACK_DISABLE_AFTER_HOURS'],
    defaults: ['plain'],
    meaning: 'an endpoint failing this long with no success is disabled',
  },
  {
    variables: ['POLL_DELAYS'],
    defaults: ['code-seconds'],
    meaning: 'seconds before each status poll',
  },
  {
    variables: ['POLL_CONCURRENCY', 'POLL_LEASE_SECONDS'],
    defaults: ['plain', 'plain'],
    meaning: 'poller',
  },
  {
    variables: ['POLLER_QUEUE_URL', 'POLLER_WORKERS'],
    stated: '— (set by the template), 1',
    meaning:
      'a scheduled run hands its due-index shards to this SQS queue, one message per worker; unset, the run drains every shard itself (see [scaling](operating.md#scaling-out-the-poller))',
  },
  { variables: ['TASK_MAX_AGE_HOURS'], defaults: ['plain'], meaning: 'then `unknown`' },
  {
    variables: ['RECONCILE_AFTER_SECONDS'],
    defaults: ['plain'],
    meaning: 'first look at a submission whose outcome is unknown',
  },
  {
    variables: ['RECONCILE_ABSENCE_MARGIN_SECONDS'],
    defaults: ['plain'],
    meaning: "added to the absence window for the service's own processing and listing delay",
  },
  {
    variables: ['DUE_SWEEP_INTERVAL_MINUTES', 'DUE_SWEEP_STALE_MINUTES'],
    stated: '60, 10 (1, 1 under `npm start`)',
    meaning: 'the due-index sweep',
  },
  {
    variables: ['EMULATOR_PROFILE'],
    defaults: ['code'],
    meaning:
      '`adversarial` varies what the documents leave open (see [the emulator](emulator.md#the-domain-api-emulator)); `EMULATOR_LIST_ORDER` (`newest`, `oldest`, `random`), `EMULATOR_LISTING_DELAY_MS`, `EMULATOR_BATCH_FAILURE` (`request`, `detail`), `EMULATOR_UNRELATED_TASKS` pin one behaviour',
  },
  {
    variables: ['EMULATOR_TIMESTAMP_WINDOW_SECONDS', 'EMULATOR_CLOCK_OFFSET_SECONDS'],
    defaults: ['plain', 'plain'],
    meaning:
      "the emulator's timestamp window, and a shift of its clock (to try the skew check); under `npm start` the gateway follows the emulator's window",
  },
  {
    variables: ['SYNC_CALLBACK_URL', 'SYNC_WEBHOOK_SECRET'],
    stated: '—',
    meaning: 'callbacks of scheduled syncs',
  },
  {
    variables: [
      'PORT',
      'EMULATOR_PORT',
      'CALLBACK_RECEIVER_PORT',
      'DYNAMODB_DATA_DIR',
      'DEV_API_KEY',
      'DEV_TENANT',
      'PRINT_CALLBACKS',
    ],
    stated: '8080, 8081, 8082, —, —, `local-dev`, `true`',
    meaning: '`npm start` only',
  },
]

/** A variable's default as its schema gives it, written as `format` says. */
function renderedDefault(variable: string, format: DefaultFormat): string {
  const schema = ALL_VARIABLES[variable]
  const parsed = schema?.safeParse(undefined)
  if (!parsed?.success || parsed.data === undefined) {
    throw new Error(`${variable}: its schema gives no default; state it in words`)
  }
  const value = parsed.data as unknown
  const seconds = format === 'seconds' || format === 'code-seconds'
  const text = Array.isArray(value)
    ? value.map((item) => (seconds && typeof item === 'number' ? item / 1000 : item)).join(',')
    : value instanceof RegExp
      ? value.source
      : String(value)
  return format.startsWith('code') ? `\`${text}\`` : text
}

export function renderConfigReference(): string {
  const table = ROWS.map((row) => {
    const names = row.variables.map((variable) => `\`${variable}\``).join(', ')
    const stated =
      'stated' in row
        ? row.stated
        : row.variables
            .map((variable, index) => renderedDefault(variable, row.defaults[index] ?? 'plain'))
            .join(', ')
    return `| ${names} | ${stated} | ${row.meaning} |`
  })
  return `# Configuration

<!-- Generated by \`npm run docs:config\` from the config schemas (scripts/config-reference.ts); do not edit. -->

All settings are environment variables, read once at start by the composition root
(\`shared/composition/\`: the \`*-env.ts\` schemas, \`settings.ts\`; the emulator's and \`npm start\`'s
own under \`infra/\`); a bad value stops the process at start with a message naming the variable.
The defaults below are rendered from the same schemas. A new setting is one line in its schema
(its default there, nowhere else) and one in the section its loader returns; the part that uses it
takes it through its own narrow settings type, and this page is regenerated (\`npm run docs:config\`).

| variable | default | meaning |
|---|---|---|
${table.join('\n')}

Logs are JSON lines with a request id; access keys, API keys, webhook secrets, signatures and
\`Authorization\` headers are redacted wherever they appear.
`
}

export const CONFIG_REFERENCE_PATH = fileURLToPath(
  new URL('../docs/configuration.md', import.meta.url),
)

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIG_REFERENCE_PATH, renderConfigReference())
  console.log(`wrote ${CONFIG_REFERENCE_PATH}`)
}
