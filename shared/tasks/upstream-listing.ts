import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import type { TaskInfo } from '../aliyun/responses.ts'

type ListingClient = Pick<DomainApiClient, 'queryTaskList' | 'queryTaskDetailList'>

/** The account's tasks over some service days, as one scan read them. */
interface Listing {
  /** When the scan read its first page (a verdict of absence needs it after the window). */
  readonly startedAt: number
  /** Every task the scan saw, once each. */
  readonly tasks: readonly TaskInfo[]
  /** False when a page could not be read (the page cap, an error, the time budget). */
  readonly complete: boolean
  readonly reason?: string | undefined
  /** The upstream calls made for this caller: 0 when it used a scan made for another. */
  readonly calls: number
}

interface ListingSettings {
  readonly pageSize: number
  /** A scan that would need more pages is incomplete (and supports no verdict). */
  readonly maxPages: number
  /** How many tasks' targets are kept (they never change: a TaskNo names the same task for ever). */
  readonly maxKeptTargets: number
  /** Scans older than this are forgotten. */
  readonly keepScansMs: number
}

const DEFAULT_LISTING_SETTINGS: ListingSettings = {
  pageSize: 100,
  maxPages: 200,
  maxKeptTargets: 20_000,
  keepScansMs: 60_000,
}

const DAY_MS = 86_400_000
/** The service's days are China Standard Time (UTC+8) days (see service-time.ts). */
const SERVICE_OFFSET_MS = 8 * 3_600_000
const serviceDay = (ms: number) => Math.floor((ms + SERVICE_OFFSET_MS) / DAY_MS)
const dayStart = (day: number) => day * DAY_MS - SERVICE_OFFSET_MS

type Scan = Omit<Listing, 'calls'> & { readonly totalCalls: number }

/**
 * Reads the account's task listing (`QueryTaskList`) without assuming its order: every page of the
 * service days asked for, until the service says there is no next page; a listing of more than
 * `maxPages` pages, one whose page failed, or one that outran its time budget is incomplete.
 * The service filters by day only, so the query names whole days (UTC+8): every search over the
 * same days can share one scan — a search that needs a verdict only a scan started late enough.
 * Paging stays complete whatever the order, as long as the service's order is stable: a task
 * created meanwhile only pushes others to later pages (read twice, kept once).
 *
 * Each candidate's targets are read once (`QueryTaskDetailList`) and kept.
 */
export class UpstreamListing {
  readonly #scans = new Map<string, { startedAt: number; scan: Promise<Scan> }>()
  readonly #targets = new Map<string, Promise<readonly string[]>>()

  constructor(private readonly settings: ListingSettings = DEFAULT_LISTING_SETTINGS) {}

  async list(
    client: ListingClient,
    input: {
      readonly from: number
      readonly to: number
      /** Only a scan that started at or after this instant is used. */
      readonly notBefore: number
      readonly deadline: number
      readonly now: () => number
    },
  ): Promise<Listing> {
    const days = { first: serviceDay(input.from), last: serviceDay(Math.max(input.from, input.to)) }
    const key = `${days.first}:${days.last}`
    const startedAt = input.now()
    this.#forgetOld(startedAt)
    const shared = this.#scans.get(key)
    if (shared && shared.startedAt >= input.notBefore) {
      const { totalCalls: _calls, ...scan } = await shared.scan
      return { ...scan, calls: 0 }
    }
    const scan = this.#scan(client, days, startedAt, input.deadline, input.now)
    this.#scans.set(key, { startedAt, scan })
    const { totalCalls, ...listing } = await scan
    return { ...listing, calls: totalCalls }
  }

  /**
   * The domains or instance a task names, read once per TaskNo (searches running at once share
   * the read). A task listed before its details can be read is not kept: it is read again later.
   */
  async targetsOf(
    client: ListingClient,
    taskNo: string,
  ): Promise<{ targets: readonly string[]; calls: number }> {
    const kept = this.#targets.get(taskNo)
    if (kept) return { targets: await kept, calls: 0 }
    const read = this.#readTargets(client, taskNo)
    const targets = read.then(({ targets }) => targets)
    this.#targets.set(taskNo, targets)
    try {
      const result = await read
      if (result.targets.length === 0) this.#targets.delete(taskNo)
      if (this.#targets.size > this.settings.maxKeptTargets) {
        const oldest = this.#targets.keys().next().value
        if (oldest !== undefined) this.#targets.delete(oldest)
      }
      return result
    } catch (error) {
      this.#targets.delete(taskNo)
      throw error
    }
  }

  async #readTargets(
    client: ListingClient,
    taskNo: string,
  ): Promise<{ targets: string[]; calls: number }> {
    const targets: string[] = []
    let calls = 0
    for (let pageNum = 1; ; pageNum++) {
      calls++
      const page = await client.queryTaskDetailList({ taskNo, pageNum, pageSize: 1000 })
      for (const detail of page.details) {
        const target = detail.domainName || detail.instanceId
        if (target && !targets.includes(target)) targets.push(target)
      }
      if (!page.hasNextPage || page.details.length === 0) return { targets, calls }
    }
  }

  async #scan(
    client: ListingClient,
    days: { first: number; last: number },
    startedAt: number,
    deadline: number,
    now: () => number,
  ): Promise<Scan> {
    const tasks = new Map<string, TaskInfo>()
    let totalCalls = 0
    const done = (reason?: string): Scan => ({
      startedAt,
      tasks: [...tasks.values()],
      complete: reason === undefined,
      reason,
      totalCalls,
    })
    for (let pageNum = 1; ; pageNum++) {
      if (pageNum > this.settings.maxPages) {
        return done(`the task listing has more than ${this.settings.maxPages} pages`)
      }
      if (now() > deadline) return done('the task listing took longer than its time budget')
      totalCalls++
      let page: Awaited<ReturnType<ListingClient['queryTaskList']>>
      try {
        page = await client.queryTaskList({
          beginCreateTime: dayStart(days.first),
          endCreateTime: dayStart(days.last + 1) - 1,
          pageNum,
          pageSize: this.settings.pageSize,
        })
      } catch (error) {
        const code = error instanceof Error && 'code' in error ? String(error.code) : 'error'
        return done(`page ${pageNum} of the task listing could not be read (${code})`)
      }
      for (const task of page.tasks) tasks.set(task.taskNo, task)
      const more = page.hasNextPage || pageNum < page.totalPages
      if (!more || page.tasks.length === 0) return done()
    }
  }

  #forgetOld(now: number): void {
    for (const [key, entry] of this.#scans) {
      if (entry.startedAt < now - this.settings.keepScansMs) this.#scans.delete(key)
    }
  }
}
