/** The lease protocol: claim a due item, hand its callback to a lane or work on it, give the lease back after a failure. */
import { isThrottling } from '../aliyun/upstream-error.ts'
import type { Logger } from '../logger.ts'
import { pollDelay } from '../tasks/task-life.ts'
import type { DueItem } from '../tasks/task-store.ts'
import { deliverCallback } from './deliver-callback.ts'
import type {
  CallbackCarrier,
  CarrierKind,
  DeliveryHandOff,
  PollerDeps,
  ProcessOutcome,
} from './poller-deps.ts'

export async function claimAndWork<T extends CallbackCarrier>(
  deps: PollerDeps,
  item: DueItem,
  handOff: DeliveryHandOff | undefined,
  markDispatched: () => void,
  kind: CarrierKind<T>,
): Promise<ProcessOutcome> {
  const taskId = item.id
  const now = deps.now()
  // Claim and read in one request: most due items are polls, worked on at once.
  const held = await kind.claim(
    taskId,
    { owner: deps.settings.owner, until: now + deps.settings.leaseMs },
    now,
  )
  if (!held) return 'skipped'
  const callbackUrl = kind.callbackDue(held)
  const lanes = callbackUrl ? handOff?.lanes : undefined
  if (lanes && handOff && callbackUrl) {
    // A callback that cannot go now gives its lease back (one more write, only in these cases)
    // and stays due; the run feeds it a lane from memory when one frees.
    const runEnding = now + deps.settings.callbackTimeoutMs > handOff.hardStop
    const wait: ProcessOutcome | undefined =
      runEnding || lanes.pausedUntil(callbackUrl) > now
        ? 'deferred'
        : !lanes.isReserved(taskId) && !lanes.reserve(taskId, callbackUrl, held.tenant)
          ? 'lanes-full'
          : undefined
    if (wait) {
      await kind
        .replace({ ...held, lease: undefined }, held.version)
        .catch((error: unknown) => deps.logger.warn('could not give a lease back', { error }))
      // Waiting for a lane or its endpoint: the run feeds it from memory, without a re-read.
      if (!runEnding) handOff.onLanesFull?.(taskId, { url: callbackUrl, tenant: held.tenant, item })
      return wait
    }
  }
  const log = deps.logger.child({ taskId })
  if (lanes && handOff) {
    lanes.run(taskId, async () => {
      const outcome = await deliverCallback(deps, held, log, kind, lanes).catch((error: unknown) =>
        releaseAfterFailure(deps, kind, held, log, error),
      )
      handOff.onDone(outcome)
    })
    markDispatched()
    return 'dispatched'
  }
  try {
    if (callbackUrl) return await deliverCallback(deps, held, log, kind)
    return await kind.work(held, log)
  } catch (error) {
    return releaseAfterFailure(deps, kind, held, log, error)
  }
}

/**
 * Releases the lease after a failed step and keeps the task due (soon, or at once after
 * throttling passes). If even that write fails (the store is down), the lease simply expires and
 * the task stays due.
 */
async function releaseAfterFailure<T extends CallbackCarrier>(
  deps: PollerDeps,
  kind: Pick<CarrierKind<T>, 'replace'>,
  held: T,
  log: Logger,
  error: unknown,
): Promise<ProcessOutcome> {
  const throttled = isThrottling(error)
  if (!throttled) log.warn('task step failed; retrying later', { error })
  const retryAt = deps.now() + (throttled ? 0 : pollDelay(deps.settings, 1))
  await kind
    .replace(
      { ...held, lease: undefined, dueAt: Math.max(retryAt, held.dueAt ?? retryAt) },
      held.version,
    )
    .catch((releaseError: unknown) =>
      log.warn('could not release the lease', { error: releaseError }),
    )
  return throttled ? 'throttled' : 'error'
}
