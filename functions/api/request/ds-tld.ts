import { dsTldRefusal } from '#shared/desired/ds-rules.ts'
import { RequestValidationError } from '#shared/errors.ts'
import type { ApiDeps } from './context.ts'

/** Refuses (422) a DS record for a domain whose TLD the registry takes none for. */
export function requireDsTld(deps: Pick<ApiDeps, 'api'>, domain: string): void {
  const refusal = dsTldRefusal(domain, deps.api.dsTlds)
  if (refusal) throw new RequestValidationError(refusal, [{ path: 'path.name', message: refusal }])
}
