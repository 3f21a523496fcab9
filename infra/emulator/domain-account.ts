import { isAliyunDns } from '#shared/changes/desired-plan.ts'
import { DOCUMENTED_DS_TLDS, MAX_DS_RECORDS } from '#shared/desired/ds-rules.ts'
import { DOCUMENTED_BEHAVIOUR, type ServiceBehaviour } from './behaviour.ts'
import { EmulatorErrors } from './emulator-error.ts'

/**
 * The emulated account: domains, their DS records and name servers, DNS hosts per instance, and
 * the tasks that change them. Tasks advance with the clock passed in, never on timers: a task
 * waits for the first half of `taskMs`, executes for the second half, then succeeds or fails,
 * and only then changes the account.
 */

export interface DsRecordState {
  readonly keyTag: number
  readonly algorithm: number
  readonly digestType: number
  readonly digest: string
}

export interface DnsHostState {
  readonly dnsName: string
  readonly ips: readonly string[]
}

export type TaskKind =
  | { readonly type: 'addDs'; readonly domain: string; readonly record: DsRecordState }
  | { readonly type: 'modifyDs'; readonly domain: string; readonly record: DsRecordState }
  | { readonly type: 'deleteDs'; readonly domain: string; readonly keyTag: number }
  | { readonly type: 'syncDs'; readonly domain: string }
  | { readonly type: 'syncDnsHost'; readonly instanceId: string }
  | {
      readonly type: 'changeDns'
      readonly domains: readonly string[]
      readonly nameServers: readonly string[]
    }

/**
 * Task types. `CHG_DNS` and `SYNC_DNSHOST` are documented; the DS names and every `code` are not
 * (the emulator's own choice, varied by the adversarial profile; clients must not depend on them).
 */
export const TASK_TYPES: Record<
  TaskKind['type'],
  { type: string; description: string; code: number }
> = {
  addDs: { type: 'ADD_DS_RECORD', description: 'Add DS record', code: 101 },
  modifyDs: { type: 'MODIFY_DS_RECORD', description: 'Modify DS record', code: 102 },
  deleteDs: { type: 'DELETE_DS_RECORD', description: 'Delete DS record', code: 103 },
  syncDs: { type: 'SYNC_DS_RECORD', description: 'Synchronize DS record', code: 104 },
  syncDnsHost: { type: 'SYNC_DNSHOST', description: 'Synchronize DNS host', code: 13 },
  changeDns: { type: 'CHG_DNS', description: 'Modify DNS', code: 2 },
}

export type DetailStatus = 'WAITING_EXECUTE' | 'EXECUTING' | 'EXECUTE_SUCCESS' | 'EXECUTE_FAILURE'

export interface TaskDetailState {
  readonly taskDetailNo: string
  /** The domain, or the instance for a DNS-host task. */
  readonly target: string
  outcome?: { readonly status: 'EXECUTE_SUCCESS' | 'EXECUTE_FAILURE'; readonly errorMsg?: string }
}

/** What the emulator kept of the request that created a task. */
export interface SignedRequest {
  /** The signed Timestamp (or x-acs-date), as sent. */
  readonly timestamp: string
  /** When the request arrived and was judged, epoch ms (emulator clock). */
  readonly arrivedAt: number
}

export interface TaskState {
  readonly taskNo: string
  readonly kind: TaskKind
  readonly createdAt: number
  /** From creation to a final status. */
  readonly durationMs: number
  /** Its place in a random listing order (stable for the task's life). */
  readonly listKey: number
  readonly clientIp: string
  readonly request?: SignedRequest | undefined
  readonly details: TaskDetailState[]
  settled: boolean
}

export interface AccountOptions {
  /** Time from submission to a final status. */
  readonly taskMs: number
  /** Domains whose first label matches answer `DomainNotExist`. */
  readonly unregisteredPattern: RegExp
  readonly unregisteredDomains: ReadonlySet<string>
  /** Domains whose first label matches fail every task at the registry. */
  readonly failingPattern: RegExp
  /** What the service does where the documents are silent (see behaviour.ts). */
  readonly behaviour: ServiceBehaviour
  readonly random: () => number
}

export const DEFAULT_ACCOUNT_OPTIONS: AccountOptions = {
  taskMs: 2_000,
  unregisteredPattern: /^unregistered/,
  unregisteredDomains: new Set(),
  failingPattern: /^fail/,
  behaviour: DOCUMENTED_BEHAVIOUR,
  random: Math.random,
}

const ALIYUN_NAME_SERVERS = ['dns1.hichina.com', 'dns2.hichina.com'] as const
/**
 * A domain's name servers until a task changes them: another DNS provider's, since a registrar DS
 * record is refused while the domain's DNS is hosted on Alibaba Cloud DNS (see below).
 */
export const DEFAULT_NAME_SERVERS = ['ns1.example-dns.net', 'ns2.example-dns.net'] as const

/**
 * The documented DS preconditions (Domain docs FAQ, "Configure DNS Security Extensions"): DS
 * records only for these TLDs, at most 8 per domain, none while the domain's DNS is hosted on
 * Alibaba Cloud DNS. How a breach fails is not documented: here the task is created and its
 * detail fails at execution with a FailReason (unconfirmed; see the fidelity table).
 */
const DS_TLDS: ReadonlySet<string> = new Set(DOCUMENTED_DS_TLDS)

export class DomainAccount {
  readonly options: AccountOptions
  readonly dsRecords = new Map<string, DsRecordState[]>()
  readonly nameServers = new Map<string, readonly string[]>()
  readonly dnsHosts = new Map<string, DnsHostState[]>()
  readonly dnsHostSyncs = new Map<string, number>()
  /** Tasks created by requests to this emulator. */
  readonly tasks = new Map<string, TaskState>()
  /** Tasks the account had before (the adversarial profile's crowd): listed and readable only. */
  readonly #unrelated = new Map<string, TaskState>()
  /** Unsettled tasks in creation order. */
  #open: TaskState[] = []
  /** Targets (domains, instances) with an unsettled task. */
  readonly #busy = new Map<string, string>()
  /** Told each domain's DS set when a task changed it, and from when (the parent zone serves it). */
  onDsChanged: ((domain: string, records: readonly DsRecordState[], at: number) => void) | undefined
  /** Told each domain's name servers when a task changed them, and from when (the delegation). */
  onNameServersChanged:
    | ((
        domain: string,
        nameServers: readonly string[],
        at: number,
        before: readonly string[],
      ) => void)
    | undefined

  constructor(
    options: Partial<AccountOptions>,
    private readonly newId: () => string,
  ) {
    this.options = { ...DEFAULT_ACCOUNT_OPTIONS, ...options }
  }

  assertRegistered(domain: string): void {
    const firstLabel = domain.split('.')[0] ?? ''
    if (
      this.options.unregisteredPattern.test(firstLabel) ||
      this.options.unregisteredDomains.has(domain)
    ) {
      throw EmulatorErrors.domainNotExist(domain)
    }
  }

  /** The current name servers of a domain: Alibaba Cloud DNS's until a task changed them. */
  nameServersOf(domain: string): readonly string[] {
    return this.nameServers.get(domain) ?? DEFAULT_NAME_SERVERS
  }

  /** Stable made-up registration facts of a domain (instance id, dates), derived from its name. */
  domainFacts(domain: string) {
    let hash = 0
    for (const char of domain) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
    const registeredAt = Date.UTC(2015 + (hash % 8), hash % 12, 1 + (hash % 28), 2, 30, 0)
    return {
      instanceId: `S2019${String(hash).padStart(10, '0').slice(0, 10)}`,
      userId: '1234567890123456',
      registeredAt,
      expiresAt: registeredAt + 12 * 365 * 86_400_000,
    }
  }

  /** The task type the service reports for a kind of task (the DS ones vary by profile). */
  typeOf(kind: TaskKind): { type: string; description: string; code: number } {
    const base = TASK_TYPES[kind.type]
    const ds =
      this.options.behaviour.dsTaskTypes[kind.type as keyof ServiceBehaviour['dsTaskTypes']]
    return ds ? { ...base, type: ds } : base
  }

  /**
   * Creates a task, or refuses with `TaskIsBeingProcessed` if a target already has one running.
   * A batch whose profile fails busy targets per detail instead creates the task, with those
   * details (and those in `failed`) failing.
   */
  submit(
    kind: TaskKind,
    clientIp: string,
    now: number,
    request?: SignedRequest,
    failed: ReadonlyMap<string, string> = new Map(),
  ): TaskState {
    this.advance(now)
    const targets = targetsOf(kind)
    const perDetail = kind.type === 'changeDns' && this.options.behaviour.batchFailure === 'detail'
    const busy = targets.filter((target) => this.#busy.has(target))
    if (busy.length > 0 && !perDetail) throw EmulatorErrors.taskBeingProcessed()
    const refused = new Map(failed)
    for (const target of busy)
      refused.set(target, 'Another task is being processed for the domain.')
    const spread = this.options.behaviour.taskMsSpread
    const task: TaskState = {
      taskNo: this.newId(),
      kind,
      createdAt: now,
      durationMs: Math.round(this.options.taskMs * (1 + (spread - 1) * this.options.random())),
      listKey: this.options.random(),
      clientIp,
      request,
      // 32 hexadecimal characters, as the docs show them.
      details: targets.map((target) => ({
        taskDetailNo: this.newId().replace(/-/g, '').toLowerCase().padEnd(32, '0').slice(0, 32),
        target,
        ...(refused.has(target)
          ? {
              outcome: {
                status: 'EXECUTE_FAILURE' as const,
                errorMsg: refused.get(target) as string,
              },
            }
          : {}),
      })),
      settled: false,
    }
    this.tasks.set(task.taskNo, task)
    this.#open.push(task)
    for (const target of targets) if (!refused.has(target)) this.#busy.set(target, task.taskNo)
    return task
  }

  /** Settles every task whose time is up, in the order they end, applying its changes. */
  advance(now: number): void {
    const due = this.#open
      .filter((task) => task.createdAt + task.durationMs <= now)
      .sort((a, b) => a.createdAt + a.durationMs - (b.createdAt + b.durationMs))
    if (due.length === 0) return
    this.#open = this.#open.filter((task) => task.createdAt + task.durationMs > now)
    for (const task of due) this.#settle(task)
  }

  statusOf(task: TaskState, detail: TaskDetailState, now: number): DetailStatus {
    if (detail.outcome) return detail.outcome.status
    return now < task.createdAt + task.durationMs / 2 ? 'WAITING_EXECUTE' : 'EXECUTING'
  }

  /**
   * Unrelated tasks already in the account today (the adversarial profile's crowd): settled, for
   * other domains and instances, of every kind — documented types among them.
   */
  seedUnrelated(now: number): void {
    const count = this.options.behaviour.unrelatedTasks
    const dayStart = Math.floor((now + 8 * 3_600_000) / 86_400_000) * 86_400_000 - 8 * 3_600_000
    for (let i = 0; i < count; i++) {
      const at = dayStart + Math.floor(this.options.random() * Math.max(1, now - dayStart))
      const domain = `unrelated-${i}.example`
      const kinds: TaskKind[] = [
        { type: 'syncDs', domain },
        { type: 'deleteDs', domain, keyTag: i },
        { type: 'changeDns', domains: [domain], nameServers: [] },
        { type: 'syncDnsHost', instanceId: `S2019UNRELATED${String(i).padStart(4, '0')}` },
      ]
      const kind = kinds[i % kinds.length] as TaskKind
      const task: TaskState = {
        taskNo: this.newId(),
        kind,
        createdAt: at,
        durationMs: this.options.taskMs,
        listKey: this.options.random(),
        clientIp: '10.0.0.1',
        details: targetsOf(kind).map((target) => ({
          taskDetailNo: this.newId().replace(/-/g, '').toLowerCase().padEnd(32, '0').slice(0, 32),
          target,
          outcome: { status: 'EXECUTE_SUCCESS' as const },
        })),
        settled: true,
      }
      this.#unrelated.set(task.taskNo, task)
    }
  }

  /** A task by its number, whether made by a request or there before. */
  taskByNo(taskNo: string): TaskState | undefined {
    return this.tasks.get(taskNo) ?? this.#unrelated.get(taskNo)
  }

  #settle(task: TaskState): void {
    const at = task.createdAt + task.durationMs
    for (const detail of task.details) {
      if (detail.outcome) continue
      const before = this.nameServersOf(detail.target)
      detail.outcome = this.#execute(task.kind, detail.target)
      this.#busy.delete(detail.target)
      if (['addDs', 'modifyDs', 'deleteDs', 'syncDs'].includes(task.kind.type)) {
        this.onDsChanged?.(detail.target, this.dsRecords.get(detail.target) ?? [], at)
      }
      if (task.kind.type === 'changeDns' && detail.outcome?.status === 'EXECUTE_SUCCESS') {
        this.onNameServersChanged?.(detail.target, this.nameServersOf(detail.target), at, before)
      }
    }
    task.settled = true
  }

  #execute(kind: TaskKind, target: string): TaskDetailState['outcome'] {
    const success = { status: 'EXECUTE_SUCCESS' } as const
    const failure = (errorMsg: string) => ({ status: 'EXECUTE_FAILURE', errorMsg }) as const
    if (this.options.failingPattern.test(target.split('.')[0] ?? '')) {
      return failure(`The registry rejected the change for ${target}.`)
    }
    if (kind.type === 'addDs' || kind.type === 'modifyDs') {
      const refusal = this.#dsPrecondition(target)
      if (refusal) return failure(refusal)
    }
    switch (kind.type) {
      case 'addDs': {
        const records = this.dsRecords.get(target) ?? []
        if (records.length >= MAX_DS_RECORDS) {
          return failure(`A domain can have at most ${MAX_DS_RECORDS} DS records.`)
        }
        if (records.some((record) => sameRecord(record, kind.record))) {
          return failure('The DS record already exists.')
        }
        this.dsRecords.set(target, [...records, kind.record])
        return success
      }
      case 'modifyDs': {
        const records = this.dsRecords.get(target) ?? []
        if (!records.some((record) => record.keyTag === kind.record.keyTag)) {
          return failure(`No DS record with key tag ${kind.record.keyTag} exists.`)
        }
        this.dsRecords.set(target, [
          ...records.filter((record) => record.keyTag !== kind.record.keyTag),
          kind.record,
        ])
        return success
      }
      case 'deleteDs': {
        const records = this.dsRecords.get(target) ?? []
        const kept = records.filter((record) => record.keyTag !== kind.keyTag)
        if (kept.length === records.length) {
          return failure(`No DS record with key tag ${kind.keyTag} exists.`)
        }
        this.dsRecords.set(target, kept)
        return success
      }
      case 'syncDs':
        return success
      case 'syncDnsHost':
        this.dnsHostSyncs.set(target, (this.dnsHostSyncs.get(target) ?? 0) + 1)
        return success
      case 'changeDns':
        this.nameServers.set(
          target,
          kind.nameServers.length > 0 ? kind.nameServers : ALIYUN_NAME_SERVERS,
        )
        return success
    }
  }

  /** Why a DS record cannot be set for the domain, if it cannot. */
  #dsPrecondition(domain: string): string | undefined {
    const tld = domain.slice(domain.lastIndexOf('.') + 1)
    if (!DS_TLDS.has(tld)) return `DS records are not supported for .${tld} domains.`
    if (isAliyunDns(this.nameServersOf(domain))) {
      return 'The domain uses Alibaba Cloud DNS: turn DNSSEC on in Alibaba Cloud DNS instead.'
    }
    return undefined
  }

  /**
   * Tasks created in [from, to] that the listing shows by `now` (after the profile's listing
   * delay), in the profile's order.
   */
  tasksCreatedBetween(from: number, to: number, now: number): TaskState[] {
    const { listOrder, listingDelayMs } = this.options.behaviour
    const order =
      listOrder === 'oldest'
        ? (a: TaskState, b: TaskState) => a.createdAt - b.createdAt
        : listOrder === 'random'
          ? (a: TaskState, b: TaskState) => a.listKey - b.listKey
          : (a: TaskState, b: TaskState) => b.createdAt - a.createdAt
    return [...this.tasks.values(), ...this.#unrelated.values()]
      .filter(
        (task) =>
          task.createdAt >= from && task.createdAt <= to && task.createdAt + listingDelayMs <= now,
      )
      .sort(order)
  }

  snapshot(now: number) {
    this.advance(now)
    return {
      dsRecords: Object.fromEntries(this.dsRecords),
      nameServers: Object.fromEntries(this.nameServers),
      dnsHosts: Object.fromEntries(this.dnsHosts),
      dnsHostSyncs: Object.fromEntries(this.dnsHostSyncs),
      tasks: [...this.tasks.values()].map((task) => ({
        taskNo: task.taskNo,
        type: this.typeOf(task.kind).type,
        kind: task.kind,
        createdAt: new Date(task.createdAt).toISOString(),
        request: task.request && {
          timestamp: task.request.timestamp,
          arrivedAt: new Date(task.request.arrivedAt).toISOString(),
        },
        details: task.details.map((detail) => ({
          target: detail.target,
          status: this.statusOf(task, detail, now),
          errorMsg: detail.outcome?.errorMsg,
        })),
      })),
    }
  }
}

function targetsOf(kind: TaskKind): readonly string[] {
  switch (kind.type) {
    case 'syncDnsHost':
      return [kind.instanceId]
    case 'changeDns':
      return kind.domains
    default:
      return [kind.domain]
  }
}

function sameRecord(a: DsRecordState, b: DsRecordState): boolean {
  return (
    a.keyTag === b.keyTag &&
    a.algorithm === b.algorithm &&
    a.digestType === b.digestType &&
    a.digest.toLowerCase() === b.digest.toLowerCase()
  )
}
