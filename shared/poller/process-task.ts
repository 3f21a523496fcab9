import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import { codeClass, UpstreamError } from '../aliyun/upstream-error.ts'
import { type ChangeDeps, settleChange } from '../changes/apply-change.ts'
import { eventBody, eventWebhookId, type WebhookEvent } from '../events/webhook-event.ts'
import type { Logger } from '../logger.ts'
import type { Metrics } from '../metrics.ts'
import type { DeliveryLogStore } from '../store/delivery-log-store.ts'
import type { DueItemStore } from '../store/due-item-store.ts'
import { toEpochSeconds } from '../store/dynamodb.ts'
import type { EndpointHealthStore } from '../store/endpoint-health-store.ts'
import type { TargetLockStore } from '../store/target-lock-store.ts'
import type { TaskNoRegistry, TaskStore } from '../store/task-store.ts'
import { MAX_RESENDS, resendState, type SendDeps, sendInTurn } from '../tasks/submit-task.ts'
import { isTerminal, type Task, type TaskSearch, type TaskStatus } from '../tasks/task.ts'
import {
  DEFAULT_QUEUE_SETTINGS,
  delayAt,
  holdsAll,
  leaveQueue,
  releaseTargets,
} from '../tasks/task-queue.ts'
import { endpointVerdict, recordEndpointOutcome } from '../webhooks/endpoint-health.ts'
import type { SendResult, WebhookMessage } from '../webhooks/send-webhook.ts'
import { taskEventBody, webhookIdOf } from '../webhooks/task-event.ts'
import { SYSTEM_KEY_ID, secretsOfKey } from '../webhooks/webhook-secrets.ts'
import { type DeliveryLanes, endpointOf } from './delivery-lanes.ts'
import { deriveStatus, forward, mergeDetails } from './derive-status.ts'
import { absenceProvableAfter, findUpstreamTask } from './reconcile.ts'
import { callbackRetryDelay, type PollerSettings, pollDelay } from './settings.ts'
import type { UpstreamListing } from './upstream-listing.ts'

export interface PollerDeps {
  readonly tasks: TaskStore
  readonly taskNos: TaskNoRegistry
  readonly deliveries: DeliveryLogStore
  readonly upstream: Pick<
    DomainApiClient,
    'queryAllTaskDetails' | 'queryTaskList' | 'queryTaskDetailList'
  >
  /** The account's task listing and candidates' targets, shared by the searches of a process. */
  readonly listing: UpstreamListing
  /** The webhook secrets that sign callbacks for tasks submitted with this API key. */
  readonly secretsFor: (keyId: string) => Promise<string[]>
  readonly sendWebhook: (message: WebhookMessage) => Promise<SendResult>
  readonly now: () => number
  readonly random: () => number
  readonly sleep: (ms: number) => Promise<void>
  readonly logger: Logger
  readonly settings: PollerSettings
  /** Who holds each target and who waits for it; a final task releases its targets. */
  readonly targetLocks?: TargetLockStore
  /**
   * How queued tasks are sent in their turn (the submission path's own dependencies); without it
   * a queued task only waits.
   */
  readonly send?: SendDeps
  /** Changes to settle (see changes/apply-change.ts); without it, none are worked on. */
  readonly changes?: ChangeDeps
  /** Events to deliver (a change's end, a domain's drift). */
  readonly events?: DueItemStore<WebhookEvent>
  /** Per-endpoint delivery health (backoff as a whole, disabling); absent: not tracked. */
  readonly endpoints?: EndpointHealthStore
  /** Repairs the due index now and then (see sweep-due-index.ts); called once per run. */
  readonly sweepDueIndex?: () => Promise<unknown>
  /** Tasks finished, callback attempts, the due backlog (see metrics.ts); absent: not counted. */
  readonly metrics?: Metrics
}

/** What happened to one due task; `throttled` asks the run to back off. */
export type ProcessOutcome =
  | 'skipped'
  | 'lost'
  | 'polled'
  | 'completed'
  | 'reconciled'
  /** A queued task whose turn came: sent upstream. */
  | 'sent'
  /** A queued task that still waits. */
  | 'waiting'
  | 'delivered'
  | 'callback-failed'
  | 'throttled'
  | 'error'
  /** A callback handed to the delivery lanes; it runs beside the poller's rounds. */
  | 'dispatched'
  /** A callback left due: its endpoint is backed off, or too little of the run is left. */
  | 'deferred'
  /** A callback left due because its endpoint's lanes (or all lanes) are busy. */
  | 'lanes-full'

const iso = (ms: number) => new Date(ms).toISOString()

function isThrottling(error: unknown): boolean {
  return (
    error instanceof UpstreamError &&
    error.retryability === 'retryable' &&
    codeClass(error.code) === 'refused-retry'
  )
}

/** How a poller run hands callbacks to its delivery lanes (see delivery-lanes.ts). */
export interface DeliveryHandOff {
  readonly lanes: DeliveryLanes
  /**
   * When the invocation is stopped for good (a Lambda's end): a delivery starts only if its
   * timeout ends before it, since the run waits for its deliveries before it returns.
   */
  readonly hardStop: number
  /** Told each background delivery's outcome, for the run's statistics. */
  readonly onDone: (outcome: ProcessOutcome) => void
  /** Told of a callback that waits for a lane, so the run need not read it again meanwhile. */
  readonly onLanesFull?: (taskId: string, waiting: WaitingCallback) => void
}

/**
 * Works on one due task: claims it with a lease (a conditional write, so overlapping runs and
 * retried invocations never act twice), then polls, reconciles or delivers its callback, and
 * writes the result with another conditional write that releases the lease. With `handOff`, a
 * callback is delivered in the background on the run's lanes instead of being waited for.
 */
export async function processDueTask(
  deps: PollerDeps,
  taskId: string,
  handOff?: DeliveryHandOff,
): Promise<ProcessOutcome> {
  if (handOff?.lanes.isRunning(taskId)) return 'skipped'
  // A lane reserved for this task (by the run, which knew it was waiting, or below) is given back
  // on every way out except a started delivery; `release` is a no-op for a task without one.
  let dispatched = false
  const markDispatched = () => {
    dispatched = true
  }
  try {
    if (taskId.startsWith('chg_')) return await processDueChange(deps, taskId)
    if (taskId.startsWith('evt_')) {
      if (!deps.events) return 'skipped'
      return await claimAndWork(deps, taskId, handOff, markDispatched, eventKind(deps.events))
    }
    return await claimAndWork(deps, taskId, handOff, markDispatched, taskKind(deps))
  } finally {
    if (!dispatched) handOff?.lanes.release(taskId)
  }
}

/** What the poller does with one kind of due item that may carry a callback. */
interface CarrierKind<T extends CallbackCarrier> {
  claim(id: string, lease: { owner: string; until: number }, now: number): Promise<T | undefined>
  replace(next: T, expectedVersion: number): Promise<boolean>
  webhookId(item: T): string
  body(item: T): string
  /** The URL of a callback that is due now, if the item's next step is one. */
  callbackDue(item: T): string | undefined
  /** The item's own next step when it is not a callback. */
  work(held: T, log: Logger): Promise<ProcessOutcome>
}

/** A callback waiting for a lane: where it goes, and whose it is (lanes are shared by tenant). */
export interface WaitingCallback {
  readonly url: string
  readonly tenant: string
}

/** Anything whose webhook the poller delivers: a task's completion, or an event. */
export interface CallbackCarrier {
  readonly id: string
  readonly tenant: string
  readonly keyId: string
  readonly version: number
  readonly callback: Task['callback']
  readonly dueAt?: number | undefined
  readonly lease?: { readonly owner: string; readonly until: number } | undefined
  readonly expiresAt?: number | undefined
}

function taskKind(deps: PollerDeps): CarrierKind<Task> {
  return {
    claim: (id, lease, now) => deps.tasks.claim(id, lease, now),
    replace: (next, version) => deps.tasks.replace(next, version),
    webhookId: webhookIdOf,
    body: taskEventBody,
    callbackDue,
    async work(held, log) {
      if (held.status === 'queued') return advanceQueued(deps, held)
      if (held.status === 'submitting') return reconcile(deps, held)
      if (!isTerminal(held.status)) return poll(deps, held)
      return deliverCallback(deps, held, log, this)
    },
  }
}

function eventKind(events: DueItemStore<WebhookEvent>): CarrierKind<WebhookEvent> {
  return {
    claim: (id, lease, now) => events.claim(id, lease, now),
    replace: (next, version) => events.replace(next, version),
    webhookId: eventWebhookId,
    body: eventBody,
    callbackDue: (event) =>
      event.callback.url && ['scheduled', 'sending'].includes(event.callback.state)
        ? event.callback.url
        : undefined,
    async work() {
      // An event has nothing to do but its callback; one without a due callback is left alone.
      return 'skipped'
    },
  }
}

async function claimAndWork<T extends CallbackCarrier>(
  deps: PollerDeps,
  taskId: string,
  handOff: DeliveryHandOff | undefined,
  markDispatched: () => void,
  kind: CarrierKind<T>,
): Promise<ProcessOutcome> {
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
      if (!runEnding) handOff.onLanesFull?.(taskId, { url: callbackUrl, tenant: held.tenant })
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

/** The URL of a callback that is due now, if the task's next step is one. */
function callbackDue(task: Task): string | undefined {
  if (!isTerminal(task.status) || !task.callback.url) return undefined
  return ['scheduled', 'sending'].includes(task.callback.state) ? task.callback.url : undefined
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

/** Writes the next state of a held task; losing the race means someone else moved it. */
async function save(deps: PollerDeps, held: Task, next: Task): Promise<boolean> {
  const ok = await deps.tasks.replace({ ...next, lease: undefined }, held.version)
  if (!ok) deps.logger.warn('lost a task update race', { taskId: held.id })
  else if (isTerminal(next.status) && !isTerminal(held.status)) {
    deps.metrics?.add('TasksFinished', 1, { dimensions: { Status: next.status } })
  }
  return ok
}

/** The state of a task that has just reached a final status: its callback, if any, is due now. */
function finished(
  deps: PollerDeps,
  task: Task,
  status: TaskStatus,
  at: number,
  extra: Partial<Task> = {},
): Task {
  const hasCallback = Boolean(task.callback.url)
  return {
    ...task,
    ...extra,
    status,
    updatedAt: iso(at),
    completedAt: iso(at),
    dueAt: hasCallback ? at : undefined,
    callback: hasCallback
      ? { ...task.callback, state: 'scheduled', nextAttemptAt: iso(at) }
      : { ...task.callback, state: 'none' },
    expiresAt: hasCallback ? undefined : toEpochSeconds(at + deps.settings.taskRetentionMs),
  }
}

/** A task rejected without reaching the registry: every detail failed with the error's code. */
function rejected(
  deps: PollerDeps,
  task: Task,
  at: number,
  error: { code: string; message: string },
): Task {
  const details = task.details.map((detail) => ({
    ...detail,
    status: 'failed' as const,
    error: error.code,
  }))
  return finished(deps, { ...task, details }, 'rejected', at, { error })
}

async function poll(deps: PollerDeps, held: Task): Promise<ProcessOutcome> {
  const taskNo = held.upstream.taskNo as string
  const upstream = await deps.upstream.queryAllTaskDetails({ taskNo })
  const at = deps.now()
  const details = mergeDetails(held.details, upstream)
  const derived = forward(held, deriveStatus(details))
  if (isTerminal(derived)) {
    const failure = details.find((detail) => detail.status === 'failed')
    const error =
      derived === 'succeeded'
        ? undefined
        : { code: 'TaskFailed', message: failure?.error ?? 'The registry task failed.' }
    const ok = await save(deps, held, finished(deps, { ...held, details }, derived, at, { error }))
    if (ok) deps.logger.info('task finished', { taskId: held.id, status: derived })
    if (ok) await unlockTargets(deps, held)
    return ok ? 'completed' : 'lost'
  }
  if (at - Date.parse(held.createdAt) > deps.settings.maxTaskAgeMs) {
    const error = {
      code: 'TaskTimedOut',
      message: 'The registry task did not finish within the maximum age.',
    }
    const ok = await save(
      deps,
      held,
      finished(deps, { ...held, details }, 'unknown', at, { error }),
    )
    if (ok) deps.logger.warn('task unknown after maximum age', { taskId: held.id, taskNo })
    if (ok) await unlockTargets(deps, held)
    return ok ? 'completed' : 'lost'
  }
  const ok = await save(deps, held, {
    ...held,
    status: derived,
    details,
    updatedAt: derived !== held.status ? iso(at) : held.updatedAt,
    pollCount: held.pollCount + 1,
    dueAt: at + pollDelay(deps.settings, held.pollCount + 1),
  })
  return ok ? 'polled' : 'lost'
}

async function reconcile(deps: PollerDeps, held: Task): Promise<ProcessOutcome> {
  if (deps.targetLocks && !(await holdsAll(deps.targetLocks, held))) {
    return reconcileUnheld(deps, held)
  }
  const search = await findUpstreamTask(deps, held)
  const at = deps.now()
  deps.metrics?.add('ReconcileUpstreamCalls', search.calls)
  const seen = (outcome: TaskSearch['outcome']): TaskSearch => ({
    at: iso(at),
    outcome,
    reason: search.reason,
    calls: search.calls,
  })
  if (search.taskNo) {
    const ok = await save(deps, held, {
      ...held,
      status: 'pending',
      upstream: { taskNo: search.taskNo, requestId: held.upstream.requestId },
      search: seen('found'),
      updatedAt: iso(at),
      dueAt: at,
    })
    // The adopted task keeps its targets until it is final.
    if (ok)
      deps.logger.info('reconciled an unknown submission', {
        taskId: held.id,
        taskNo: search.taskNo,
      })
    return ok ? 'reconciled' : 'lost'
  }
  const provableAfter = absenceProvableAfter(deps.settings, held)
  // A verdict of absence rests on a whole listing read after the window closed, and on no
  // matching candidate being too young to judge.
  if (search.complete && search.listedAt >= provableAfter && search.tooYoung === 0) {
    return rejectUnsent(
      deps,
      { ...held, search: seen('absent') },
      at,
      'submission proven absent upstream',
    )
  }
  if (!search.complete) {
    deps.logger.warn('the upstream search was inconclusive; no verdict', {
      taskId: held.id,
      reason: search.reason,
    })
  }
  // Look again after the usual pause, and no later than the moment absence becomes provable.
  const next =
    at < provableAfter
      ? Math.min(at + deps.settings.reconcileRetryMs, Math.max(at, provableAfter))
      : at + deps.settings.reconcileRetryMs
  const ok = await save(deps, held, {
    ...held,
    search: seen(search.complete ? 'not-yet' : 'inconclusive'),
    dueAt: next,
  })
  return ok ? 'polled' : 'lost'
}

/**
 * A `submitting` task that does not hold every target has not been sent: a task is sent only
 * while it holds them all, and a target held by a task that is not final is never released or
 * given to another. Its process stopped (or is slow) between the intent and taking the targets.
 * It may still take them and send until `sendBy`, so nothing is decided before absence is
 * provable; and nothing is searched for upstream either, since any task found there for its
 * domain in its window is another's (a neighbour's whose process died before recording it).
 */
async function reconcileUnheld(deps: PollerDeps, held: Task): Promise<ProcessOutcome> {
  const at = deps.now()
  const provableAfter = absenceProvableAfter(deps.settings, held)
  if (at < provableAfter) {
    // Looked at again after the usual pause: if it takes its targets and sends meanwhile, and
    // its process then stops, the next look searches for its upstream task as usual.
    const next = Math.min(at + deps.settings.reconcileRetryMs, provableAfter)
    const ok = await save(deps, held, { ...held, dueAt: next })
    return ok ? 'polled' : 'lost'
  }
  // It may hold some of a batch's targets (a process that stopped while taking them).
  return rejectUnsent(deps, held, at, 'submission never sent (targets not held); task rejected')
}

/**
 * A submission proven never to have reached the registry. Accepted (answered 202): sent again with
 * a fresh intent in its turn, keeping what it holds — the gateway carries out what it accepted.
 * Never answered 202 (its process stopped first): `rejected` / `NotSubmitted`, and a keyed
 * request's key is freed, so the same request may be sent again with it.
 */
async function rejectUnsent(
  deps: PollerDeps,
  held: Task,
  at: number,
  logMessage: string,
): Promise<ProcessOutcome> {
  if (held.accepted && (held.resends ?? 0) < MAX_RESENDS && deps.send) {
    const ok = await save(deps, held, resendState(held, at))
    if (ok) deps.logger.warn(`${logMessage}; accepted, so sent again`, { taskId: held.id })
    return ok ? 'reconciled' : 'lost'
  }
  const error = {
    code: 'NotSubmitted',
    message: held.accepted
      ? `The submission never reached Alibaba Cloud in ${MAX_RESENDS + 1} attempts; nothing was changed.`
      : 'The submission never reached Alibaba Cloud; nothing was changed.',
  }
  const freed = held.idempotency && !held.accepted
  const ok = await save(deps, held, {
    ...rejected(deps, held, at, error),
    ...(freed ? { idempotency: { ...held.idempotency, freed: true }, answer: undefined } : {}),
  })
  if (!ok) return 'lost'
  // Its targets, or those of them it holds, are free for the next in line.
  await unlockTargets(deps, held)
  deps.logger.warn(logMessage, { taskId: held.id })
  return 'completed'
}

/** The task is final: its targets are free for the next in line, woken now. */
async function unlockTargets(deps: PollerDeps, task: Task): Promise<void> {
  if (!deps.targetLocks) return
  const woken = await releaseTargets(queueDepsOf(deps, deps.targetLocks), task)
  // The next task in line goes now, in this run, rather than at the next read of the due index.
  await Promise.all(
    woken.map((id) =>
      processDueTask(deps, id).catch((error: unknown) => {
        deps.logger.warn('could not move the next queued task on', { taskId: id, error })
      }),
    ),
  )
}

const queueDepsOf = (deps: PollerDeps, targetLocks: TargetLockStore) => ({
  tasks: deps.tasks,
  targetLocks,
  now: deps.now,
  logger: deps.logger,
  queue: deps.send?.settings.queue ?? DEFAULT_QUEUE_SETTINGS,
  nudgeChange: deps.changes
    ? (id: string, at: number) => deps.changes!.changes.nudge(id, at)
    : undefined,
})

/** A change falls due: claimed with a lease like a task, then moved on by `settleChange`. */
async function processDueChange(deps: PollerDeps, id: string): Promise<ProcessOutcome> {
  const context = deps.changes
  if (!context) return 'skipped'
  const now = deps.now()
  const change = await context.changes.get(id, now)
  if (
    !change ||
    change.dueAt === undefined ||
    change.dueAt > now ||
    (change.lease && change.lease.until > now && change.lease.owner !== deps.settings.owner)
  ) {
    return 'skipped'
  }
  const claimed = {
    ...change,
    lease: { owner: deps.settings.owner, until: now + deps.settings.leaseMs },
  }
  if (!(await context.changes.replace(claimed, change.version))) return 'lost'
  const held = { ...claimed, version: change.version + 1 }
  try {
    const after = await settleChange({ ...context, logger: deps.logger }, held)
    return after.status === 'running' ? 'waiting' : 'completed'
  } catch (error) {
    deps.logger.warn('change step failed; retrying later', { changeId: id, error })
    await context.changes
      .replace(
        { ...held, lease: undefined, dueAt: deps.now() + pollDelay(deps.settings, 1) },
        held.version,
      )
      .catch(() => undefined)
    return 'error'
  }
}

/**
 * A queued task's turn: rejected if it waited too long or a step it depends on failed; else, when
 * it is the head of every target's queue and the targets are free, it takes them, writes its
 * intent (`submitting`, a new `sendBy`) and is sent exactly as the API sends. Otherwise it looks
 * again after a backoff (sooner when a release wakes it).
 */
async function advanceQueued(deps: PollerDeps, held: Task): Promise<ProcessOutcome> {
  const send = deps.send
  const locks = deps.targetLocks
  const now = deps.now()
  const queue = held.queue
  if (!send || !locks || !queue) {
    const ok = await save(deps, held, { ...held, dueAt: now + 60_000 })
    return ok ? 'waiting' : 'lost'
  }
  const queueDeps = queueDepsOf(deps, locks)
  const since = Date.parse(queue.since)
  if (now - since > send.settings.queue.maxWaitMs) {
    return leaveUnsent(deps, held, {
      code: 'QueueTimeout',
      message: 'The task waited too long for its turn; nothing was sent.',
    })
  }
  if (held.after && held.after.length > 0) {
    const earlier = await Promise.all(held.after.map((id) => deps.tasks.get(id, now)))
    if (earlier.some((step) => step && isTerminal(step.status) && step.status !== 'succeeded')) {
      return leaveUnsent(deps, held, {
        code: 'ChangeStopped',
        message: 'An earlier step of the change did not succeed; this step was not sent.',
      })
    }
    if (earlier.some((step) => step?.status !== 'succeeded')) {
      // Its earlier steps end before it can be the head; each one's end wakes the change.
      return keepWaiting(deps, held, send, 'behind')
    }
  }
  const outcome = await sendInTurn(
    { ...send, logger: deps.logger, nudgeChange: queueDeps.nudgeChange },
    held,
  )
  if (outcome === 'head' || outcome === 'behind') return keepWaiting(deps, held, send, outcome)
  if (outcome === 'lost') return 'lost'
  if (outcome.kind === 'rejected') return 'completed'
  return 'sent'
}

async function keepWaiting(
  deps: PollerDeps,
  held: Task,
  send: SendDeps,
  turn: 'head' | 'behind',
): Promise<ProcessOutcome> {
  const queue = held.queue as NonNullable<Task['queue']>
  const delays =
    queue.reason === 'upstream-busy'
      ? send.settings.queue.busyRetryDelaysMs
      : turn === 'head'
        ? send.settings.queue.headRecheckDelaysMs
        : send.settings.queue.recheckDelaysMs
  const ok = await save(deps, held, {
    ...held,
    queue: { ...queue, checks: queue.checks + 1 },
    dueAt: deps.now() + delayAt(delays, queue.checks),
  })
  return ok ? 'waiting' : 'lost'
}

/** A queued task that will never be sent: rejected, its tickets and targets given back. */
async function leaveUnsent(
  deps: PollerDeps,
  held: Task,
  error: { code: string; message: string },
): Promise<ProcessOutcome> {
  const ok = await save(
    deps,
    held,
    rejected(deps, { ...held, queue: undefined }, deps.now(), error),
  )
  if (ok && deps.targetLocks) await leaveQueue(queueDepsOf(deps, deps.targetLocks), held)
  if (ok) deps.logger.warn('queued task rejected unsent', { taskId: held.id, code: error.code })
  return ok ? 'completed' : 'lost'
}

async function deliverCallback<T extends CallbackCarrier>(
  deps: PollerDeps,
  held: T,
  log: Logger,
  kind: Pick<CarrierKind<T>, 'replace' | 'webhookId' | 'body'>,
  lanes?: DeliveryLanes,
): Promise<ProcessOutcome> {
  const save = async (current: T, next: T) => {
    const ok = await kind.replace({ ...next, lease: undefined }, current.version)
    if (!ok) deps.logger.warn('lost a task update race', { taskId: current.id })
    return ok
  }
  const url = held.callback.url
  if (!url || !['scheduled', 'sending'].includes(held.callback.state)) {
    await save(held, { ...held, dueAt: undefined })
    return 'skipped'
  }
  const webhookId = kind.webhookId(held)
  const retention = toEpochSeconds(deps.now() + deps.settings.taskRetentionMs)
  const endpoint = endpointOf(url)
  // The signing key is read with the endpoint's health: a secret rotated a moment ago signs now.
  const read = await deps.endpoints?.getWithKey(held.keyId, endpoint)
  const health = read?.health
  const verdict = endpointVerdict(health, deps.now())
  if (verdict.kind === 'backoff') {
    // The endpoint as a whole is failing: wait for it, without spending one of this task's tries.
    lanes?.pause(url, verdict.until)
    const ok = await save(held, { ...held, dueAt: verdict.until })
    return ok ? 'deferred' : 'lost'
  }
  if (verdict.kind === 'disabled') {
    const ok = await save(held, {
      ...held,
      callback: {
        ...held.callback,
        state: 'disabled',
        nextAttemptAt: undefined,
        lastError: `the endpoint ${endpoint} is disabled since ${verdict.since}`,
      },
      dueAt: undefined,
      expiresAt: retention,
    })
    return ok ? 'callback-failed' : 'lost'
  }
  let attempts = held.callback.attempts
  if (held.callback.state === 'sending') {
    // The previous attempt's run stopped mid-flight: its outcome is unknown, so count it and send
    // again (the receiver deduplicates on webhook-id).
    await deps.deliveries.record(
      held.id,
      {
        attempt: attempts,
        at: iso(deps.now()),
        url,
        webhookId,
        outcome: 'interrupted',
        error: 'the sending run stopped',
      },
      retention,
    )
  }
  // Mark the attempt as in flight before sending: a crash now is seen and counted, never hidden.
  attempts += 1
  const startedAt = deps.now()
  const sending: T = {
    ...held,
    callback: { ...held.callback, state: 'sending', attempts, lastAttemptAt: iso(startedAt) },
    dueAt: startedAt + deps.settings.callbackTimeoutMs + deps.settings.leaseMs,
  }
  if (!(await kind.replace(sending, held.version))) return 'lost'
  const inFlight: T = { ...sending, version: held.version + 1 }

  const secrets =
    read && held.keyId !== SYSTEM_KEY_ID
      ? secretsOfKey(held.keyId, read.key, deps.now(), undefined)
      : await deps.secretsFor(held.keyId)
  const result = await deps.sendWebhook({ url, id: webhookId, body: kind.body(held), secrets })
  const at = deps.now()
  // 410 speaks of one message and `blocked` of our policy: neither says the endpoint is down.
  if (deps.endpoints && (result.outcome === 'delivered' || result.outcome === 'failed')) {
    const recorded = await recordEndpointOutcome(
      deps.endpoints,
      deps.logger,
      held.keyId,
      endpoint,
      { ok: result.outcome === 'delivered', error: result.error },
      at,
      deps.settings.endpointHealth,
      { health },
    ).catch((error: unknown) => {
      log.warn('could not record the endpoint outcome', { error })
      return undefined
    })
    if (recorded?.backoffUntil !== undefined) lanes?.pause(url, recorded.backoffUntil)
  }

  let callback: CallbackCarrier['callback']
  let dueAt: number | undefined
  if (result.outcome === 'delivered') {
    callback = {
      ...inFlight.callback,
      state: 'delivered',
      deliveredAt: iso(at),
      nextAttemptAt: undefined,
      lastError: undefined,
    }
  } else if (result.outcome === 'gone' || result.outcome === 'blocked') {
    callback = {
      ...inFlight.callback,
      state: result.outcome,
      nextAttemptAt: undefined,
      lastError: result.error,
    }
  } else {
    const delay = callbackRetryDelay(deps.settings, attempts - 1, deps.random)
    if (delay === undefined) {
      callback = {
        ...inFlight.callback,
        state: 'exhausted',
        nextAttemptAt: undefined,
        lastError: result.error,
      }
    } else {
      const wait =
        result.retryAfterMs === undefined
          ? delay
          : Math.min(
              deps.settings.retryAfterMaxMs,
              Math.max(deps.settings.retryAfterMinMs, result.retryAfterMs),
            )
      dueAt = at + wait
      callback = {
        ...inFlight.callback,
        state: 'scheduled',
        nextAttemptAt: iso(dueAt),
        lastError: result.error,
      }
    }
  }
  deps.metrics?.add('CallbackAttempts', 1, { dimensions: { Outcome: result.outcome } })
  if (callback.state === 'exhausted') deps.metrics?.add('CallbacksExhausted')
  await deps.deliveries.record(
    held.id,
    {
      attempt: attempts,
      at: iso(startedAt),
      url,
      webhookId,
      outcome: result.outcome,
      statusCode: result.statusCode,
      durationMs: result.durationMs,
      error: result.error,
      responseSnippet: result.responseSnippet,
      nextAttemptAt: callback.nextAttemptAt,
    },
    retention,
  )
  const final = dueAt === undefined
  const ok = await save(inFlight, {
    ...inFlight,
    callback,
    dueAt,
    expiresAt: final ? retention : undefined,
  })
  if (result.outcome === 'delivered')
    log.info('callback delivered', { attempts, statusCode: result.statusCode })
  else if (final)
    log.warn('callback not delivered; giving up', {
      state: callback.state,
      attempts,
      error: result.error,
    })
  if (!ok) return 'lost'
  return result.outcome === 'delivered' ? 'delivered' : 'callback-failed'
}
