import { buildAllFunctions } from '#infra/build/build-functions.ts'

/** The bundle tests import the built Lambda bundles: build them once per test run. */
export default async function setup(): Promise<void> {
  await buildAllFunctions()
}
