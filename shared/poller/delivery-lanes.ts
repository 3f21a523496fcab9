/**
 * Webhook deliveries run beside polling, never in its way: at most `concurrency` at once, at most
 * `perEndpoint` to one endpoint (URL origin), so a receiver that hangs holds only its own lanes,
 * and at most `perTenant` for one tenant, so one tenant's slow receivers leave lanes for the others.
 * A poller round reserves a lane, claims the task, hands the delivery over and moves on; `drain`
 * waits for what is in flight.
 */
interface DeliveryLaneSettings {
  readonly concurrency: number
  readonly perEndpoint: number
  readonly perTenant: number
}

export class DeliveryLanes {
  readonly #settings: DeliveryLaneSettings
  readonly #inFlight = new Map<
    string,
    { endpoint: string; tenant: string; running: Promise<void> | undefined }
  >()
  readonly #byEndpoint = new Map<string, number>()
  readonly #byTenant = new Map<string, number>()

  constructor(settings: DeliveryLaneSettings) {
    this.#settings = settings
  }

  /** How many of the tenant's deliveries hold a lane. */
  inFlightOf(tenant: string): number {
    return this.#byTenant.get(tenant) ?? 0
  }

  /** True while this task's delivery is running (it must not be picked up again meanwhile). */
  isRunning(taskId: string): boolean {
    return this.#inFlight.get(taskId)?.running !== undefined
  }

  /** True when a lane is reserved for this task and its delivery has not started yet. */
  isReserved(taskId: string): boolean {
    const lane = this.#inFlight.get(taskId)
    return lane !== undefined && lane.running === undefined
  }

  readonly #pausedUntil = new Map<string, number>()

  /** Notes that the endpoint of `url` is backed off until `until` (epoch ms). */
  pause(url: string, until: number): void {
    const endpoint = endpointOf(url)
    this.#pausedUntil.set(endpoint, Math.max(until, this.#pausedUntil.get(endpoint) ?? 0))
  }

  /** Until when the endpoint of `url` is known to be backed off (0 when it is not). */
  pausedUntil(url: string): number {
    return this.#pausedUntil.get(endpointOf(url)) ?? 0
  }

  /**
   * Takes a lane for this task's delivery to `url`, if the limits allow it now. Synchronous, so
   * concurrent workers of one run cannot both take the last lane. Follow with `run` or `release`.
   */
  reserve(taskId: string, url: string, tenant: string): boolean {
    const endpoint = endpointOf(url)
    if (
      this.#inFlight.has(taskId) ||
      this.#inFlight.size >= this.#settings.concurrency ||
      (this.#byEndpoint.get(endpoint) ?? 0) >= this.#settings.perEndpoint ||
      (this.#byTenant.get(tenant) ?? 0) >= this.#settings.perTenant
    ) {
      return false
    }
    this.#byEndpoint.set(endpoint, (this.#byEndpoint.get(endpoint) ?? 0) + 1)
    this.#byTenant.set(tenant, (this.#byTenant.get(tenant) ?? 0) + 1)
    this.#inFlight.set(taskId, { endpoint, tenant, running: undefined })
    return true
  }

  /** Gives a reserved lane back unused (e.g. the task was claimed by someone else). */
  release(taskId: string): void {
    const lane = this.#inFlight.get(taskId)
    if (!lane) return
    this.#inFlight.delete(taskId)
    const left = (this.#byEndpoint.get(lane.endpoint) ?? 1) - 1
    if (left > 0) this.#byEndpoint.set(lane.endpoint, left)
    else this.#byEndpoint.delete(lane.endpoint)
    const tenantLeft = (this.#byTenant.get(lane.tenant) ?? 1) - 1
    if (tenantLeft > 0) this.#byTenant.set(lane.tenant, tenantLeft)
    else this.#byTenant.delete(lane.tenant)
  }

  /** Runs the delivery on its reserved lane without waiting for it; the lane frees when it ends. */
  run(taskId: string, deliver: () => Promise<unknown>): void {
    const lane = this.#inFlight.get(taskId)
    if (!lane) throw new Error(`no lane reserved for ${taskId}`)
    lane.running = deliver()
      .then(() => undefined)
      .finally(() => this.release(taskId))
  }

  /** Resolves when any delivery in flight ends (at once when none is). */
  async anyDone(): Promise<void> {
    const running = [...this.#inFlight.values()]
      .map((lane) => lane.running)
      .filter((promise): promise is Promise<void> => promise !== undefined)
    if (running.length > 0) await Promise.race(running.map((promise) => promise.catch(() => {})))
  }

  get size(): number {
    return this.#inFlight.size
  }

  /** Waits for every delivery in flight. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) {
      const running = [...this.#inFlight.values()].map((lane) => lane.running)
      if (running.every((promise) => promise === undefined)) return
      await Promise.allSettled(running)
    }
  }
}

/** The endpoint a URL belongs to: its origin (scheme, host, port). */
export function endpointOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return url
  }
}

/**
 * The order in which callbacks waiting for a lane get one: tenants take turns — one callback each
 * per round, the tenant with the fewest deliveries in flight first — and each tenant's own
 * callbacks keep their order. However many busy tenants there are, a free lane goes to the one
 * that has waited with the least in flight, never to the tenant with the most waiting.
 */
export function inTurns<W extends { readonly tenant: string }>(
  waiting: Iterable<readonly [string, W]>,
  inFlightOf: (tenant: string) => number,
): [string, W][] {
  const byTenant = new Map<string, [string, W][]>()
  let total = 0
  for (const entry of waiting) {
    total++
    const queue = byTenant.get(entry[1].tenant) ?? []
    queue.push([entry[0], entry[1]])
    byTenant.set(entry[1].tenant, queue)
  }
  const tenants = [...byTenant.keys()].sort((a, b) => inFlightOf(a) - inFlightOf(b))
  const order: [string, W][] = []
  for (let round = 0; order.length < total; round++) {
    for (const tenant of tenants) {
      const next = byTenant.get(tenant)?.[round]
      if (next) order.push(next)
    }
  }
  return order
}
