import { handle } from 'hono/aws-lambda'
import { loadGatewayConfig, loadWorkerConfig } from '#shared/config.ts'
import { createApp } from './app.ts'
import { buildApiDeps } from './deps.ts'

// Built once per Lambda execution environment and reused by every invocation.
const app = createApp(buildApiDeps(loadGatewayConfig(), loadWorkerConfig()))

/** API Gateway HTTP API (payload 2.0) and Lambda Function URL entry point. */
export const handler = handle(app)
