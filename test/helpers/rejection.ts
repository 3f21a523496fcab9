import { UpstreamError } from '#shared/aliyun/upstream-error.ts'

/** Awaits a promise that must reject with an UpstreamError, and returns the error. */
export async function upstreamRejection(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!(error instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${error}`)
  return error
}
