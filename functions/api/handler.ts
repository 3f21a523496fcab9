import type { Context } from 'aws-lambda'
import { handle } from 'hono/aws-lambda'
import { lambdaGraph } from '#shared/composition/lambda-environment.ts'
import { beginInvocation } from '../invocation.ts'
import { createApp } from './app.ts'
import { apiDepsFrom } from './deps.ts'

// Built once per Lambda execution environment and reused by every invocation.
const app = createApp(apiDepsFrom(await lambdaGraph()))
const serve = handle(app)

/** API Gateway HTTP API (payload 2.0) and Lambda Function URL entry point. */
export const handler: typeof serve = (event, context) => {
  beginInvocation(context as Context)
  return serve(event, context)
}
