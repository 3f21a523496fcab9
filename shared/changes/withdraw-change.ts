import { toEpochSeconds } from '../epoch.ts'
import { ticketOf } from '../tasks/target-locks.ts'
import { targetsOf } from '../tasks/task.ts'
import type { ChangeDeps, StoredChange } from './change-request.ts'

/** A step's place in its domain's queue, fixed by the change (so it can be taken back). */
export function stepTicket(change: StoredChange, index: number): string {
  return ticketOf(
    Date.parse(change.createdAt),
    index,
    change.planned[index]?.id ?? '',
    change.tenant,
  )
}

/** A step's place reserved in its targets' queues: a ticket, or the targets held. */
export type Reserved = { readonly targets: readonly string[] } & (
  | { readonly ticket: string; readonly holder?: undefined }
  | { readonly holder: string; readonly ticket?: undefined }
)

export async function giveBack(
  deps: Pick<ChangeDeps, 'targetLocks'>,
  reserved: readonly Reserved[],
): Promise<void> {
  await Promise.all(
    reserved.flatMap(({ targets, ticket, holder }) =>
      [...new Set(targets)].map((target) =>
        holder !== undefined
          ? deps.targetLocks.release(target, holder)
          : deps.targetLocks.dequeue(target, ticket),
      ),
    ),
  )
}

/**
 * Takes a proposal back: its tickets, the domain's mention of it (and the domain's state when the
 * proposal created it and nothing else was written since: still at its first version, holding
 * nothing else), then the change itself, left `withdrawn` with nothing due. Every part is harmless
 * to repeat.
 */
export async function withdraw(
  deps: ChangeDeps,
  change: StoredChange,
  options: { readonly tickets: boolean },
): Promise<void> {
  if (options.tickets) {
    // Whatever it reserved: the first step's hold, if it took its domain, and every ticket.
    const first = change.planned[0]
    await giveBack(deps, [
      ...(first ? [{ targets: targetsOf(first.command), holder: first.id }] : []),
      ...change.planned.map((step, index) => ({
        targets: targetsOf(step.command),
        ticket: stepTicket(change, index),
      })),
    ])
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const state = await deps.domainStates.get(change.domain)
    if (!state || state.open?.[change.kind] !== change.id) break
    const { version, ...base } = state
    const open = { ...base.open }
    delete open[change.kind]
    const empty = !base.ds && !base.nameServers && !base.drift && Object.keys(open).length === 0
    if (empty && version === 1) {
      if (await deps.domainStates.remove(change.domain, version)) break
    } else if (await deps.domainStates.save({ ...base, open }, version)) break
  }
  const at = deps.now()
  const current = (await deps.changes.get(change.id, at)) as StoredChange | undefined
  if (current?.status !== 'proposed') return
  await deps.changes.replace(
    {
      ...current,
      status: 'withdrawn',
      updatedAt: new Date(at).toISOString(),
      dueAt: undefined,
      lease: undefined,
      expiresAt: toEpochSeconds(at + deps.settings.taskRetentionMs),
    },
    current.version,
  )
}
