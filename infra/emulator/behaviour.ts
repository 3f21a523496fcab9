/**
 * What the emulated service does where the public documents are silent. `documented` picks one
 * plausible choice for each; `adversarial` varies every one of them (per run, at random, each
 * overridable), so a guarantee that rests on any of them fails a test:
 * - the order of `QueryTaskList` (newest first, oldest first, or a stable random order);
 * - the task types of the DS actions (never documented: random names);
 * - how long a new task takes to show in `QueryTaskList` (bounded: the gateway's absence margin
 *   must exceed it — a stated requirement on the service, see docs/guarantee.md);
 * - whether a busy or unregistered domain in a name-server batch refuses the whole `Save*` or only
 *   fails its own detail;
 * - how long tasks take (here up to `taskMsSpread` times the account's `taskMs`);
 * - how many unrelated tasks the account already has today.
 */
export type ListOrder = 'newest' | 'oldest' | 'random'
export type BatchFailure = 'request' | 'detail'
export type DsKind = 'addDs' | 'modifyDs' | 'deleteDs' | 'syncDs'

export interface ServiceBehaviour {
  readonly profile: 'documented' | 'adversarial'
  readonly listOrder: ListOrder
  readonly dsTaskTypes: Readonly<Record<DsKind, string>>
  readonly listingDelayMs: number
  readonly batchFailure: BatchFailure
  readonly taskMsSpread: number
  readonly unrelatedTasks: number
}

export const DOCUMENTED_BEHAVIOUR: ServiceBehaviour = {
  profile: 'documented',
  listOrder: 'newest',
  dsTaskTypes: {
    addDs: 'ADD_DS_RECORD',
    modifyDs: 'MODIFY_DS_RECORD',
    deleteDs: 'DELETE_DS_RECORD',
    syncDs: 'SYNC_DS_RECORD',
  },
  listingDelayMs: 0,
  batchFailure: 'request',
  taskMsSpread: 1,
  unrelatedTasks: 0,
}

/** The most the adversarial profile delays a new task's listing by default. */
export const ADVERSARIAL_LISTING_DELAY_MS = 1_000

const pick = <T>(values: readonly T[], random: () => number): T =>
  values[Math.floor(random() * values.length)] as T

function randomTypeName(random: () => number): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
  let name = ''
  for (let i = 0; i < 8; i++) name += letters[Math.floor(random() * letters.length)]
  return `T_${name}`
}

/** A run of the adversarial profile: every open behaviour drawn at random unless given. */
export function adversarialBehaviour(
  random: () => number = Math.random,
  given: Partial<ServiceBehaviour> = {},
): ServiceBehaviour {
  return {
    profile: 'adversarial',
    listOrder: pick(['newest', 'oldest', 'random'] as const, random),
    dsTaskTypes: {
      addDs: randomTypeName(random),
      modifyDs: randomTypeName(random),
      deleteDs: randomTypeName(random),
      syncDs: randomTypeName(random),
    },
    listingDelayMs: Math.round(ADVERSARIAL_LISTING_DELAY_MS * (0.5 + random() / 2)),
    batchFailure: pick(['request', 'detail'] as const, random),
    taskMsSpread: 3,
    unrelatedTasks: 300,
    ...given,
  }
}

export function behaviourFor(
  profile: 'documented' | 'adversarial',
  random: () => number = Math.random,
  given: Partial<ServiceBehaviour> = {},
): ServiceBehaviour {
  return profile === 'adversarial'
    ? adversarialBehaviour(random, given)
    : { ...DOCUMENTED_BEHAVIOUR, ...given }
}
