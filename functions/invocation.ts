import type { Context } from 'aws-lambda'
import { invocationTraceHeader } from '#shared/composition/lambda-environment.ts'
import { setInvocationFields } from '#shared/logger.ts'

let coldStart = true

/** `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=…;Sampled=1` → its root trace id. */
export function traceIdFrom(header: string | undefined): string | undefined {
  return header ? /(?:^|;)Root=([^;]+)/.exec(header)?.[1] : undefined
}

/**
 * Marks the start of one Lambda invocation: every log line from here on carries its request id,
 * whether it is the environment's first (cold start) and its X-Ray trace id (from the runtime's
 * per-invocation trace header, see `invocationTraceHeader`).
 */
export function beginInvocation(
  context: Pick<Context, 'awsRequestId'>,
  traceHeader: string | undefined = invocationTraceHeader(),
): void {
  setInvocationFields({
    awsRequestId: context.awsRequestId,
    coldStart,
    traceId: traceIdFrom(traceHeader),
  })
  coldStart = false
}
