import * as z from 'zod'

/**
 * Fault injection. Each rule fires on a share of requests (`rate`), optionally only for some
 * actions and only a limited number of times (`count`). `before` faults happen before the action
 * runs (nothing changes); `after` faults happen after it ran, so a `Save*` task exists although
 * the client never learns its TaskNo — the ambiguous case the gateway must survive.
 */
export const FAULT_KINDS = [
  'latency',
  'throttle',
  'unavailable',
  'error5xx',
  'error5xxEmpty',
  'reset',
  'slowBody',
  'malformed',
  'networkIoError',
  /** An error answer with the rule's `code` and `status` (a throttling variant, an unknown code). */
  'code',
  /**
   * A copy of the same signed request already reached the service: the action runs, and the
   * answer the client sees is `SignatureNonceUsed` (aliyun/alibaba-cloud-sdk-go#39).
   */
  'duplicateDelivery',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

const DEFAULT_PHASE: Record<FaultKind, 'before' | 'after'> = {
  latency: 'before',
  throttle: 'before',
  unavailable: 'before',
  error5xx: 'after',
  error5xxEmpty: 'after',
  reset: 'after',
  slowBody: 'after',
  malformed: 'after',
  // Documented for the batch, DNS-host and query actions; whether the action ran is not: `after`
  // by default (the ambiguous case), `before` on request.
  networkIoError: 'after',
  code: 'before',
  duplicateDelivery: 'after',
}

export const FaultRuleSchema = z
  .object({
    kind: z.enum(FAULT_KINDS),
    rate: z.number().min(0).max(1).default(1),
    /** Fire at most this many times, then stop. */
    count: z.number().int().positive().optional(),
    /** Only for these actions (all when absent). */
    actions: z.array(z.string()).optional(),
    phase: z.enum(['before', 'after']).optional(),
    /** latency: added delay; slowBody: pause in the middle of the body. */
    ms: z.number().int().min(0).max(120_000).default(0),
    /** error5xx: the status to answer with (500–599); code: the status of its error (400–599). */
    status: z.number().int().min(400).max(599).optional(),
    /** code: the error code to answer with. */
    code: z.string().min(1).max(100).default('Throttling'),
  })
  .refine((rule) => rule.kind === 'code' || rule.status === undefined || rule.status >= 500, {
    message: 'status must be 500–599 except for a code fault',
    path: ['status'],
  })
export type FaultRuleInput = z.input<typeof FaultRuleSchema>
export type FaultRule = z.infer<typeof FaultRuleSchema>

export interface FiredFault {
  readonly kind: FaultKind
  readonly ms: number
  readonly status: number
  readonly code: string
}

export class FaultInjector {
  #rules: { rule: FaultRule; fired: number }[] = []

  constructor(
    rules: readonly FaultRuleInput[] = [],
    private readonly random: () => number = Math.random,
  ) {
    this.set(rules)
  }

  set(rules: readonly FaultRuleInput[]): void {
    this.#rules = rules.map((rule) => ({ rule: FaultRuleSchema.parse(rule), fired: 0 }))
  }

  add(rule: FaultRuleInput): void {
    this.#rules.push({ rule: FaultRuleSchema.parse(rule), fired: 0 })
  }

  list(): (FaultRule & { fired: number })[] {
    return this.#rules.map(({ rule, fired }) => ({ ...rule, fired }))
  }

  /** The faults that fire for this request in this phase; each rule decides independently. */
  draw(action: string | undefined, phase: 'before' | 'after'): FiredFault[] {
    const fired: FiredFault[] = []
    for (const entry of this.#rules) {
      const { rule } = entry
      if ((rule.phase ?? DEFAULT_PHASE[rule.kind]) !== phase) continue
      if (rule.actions && (!action || !rule.actions.includes(action))) continue
      if (rule.count !== undefined && entry.fired >= rule.count) continue
      if (this.random() >= rule.rate) continue
      entry.fired++
      const status = rule.status ?? (rule.kind === 'code' ? 400 : 500)
      fired.push({ kind: rule.kind, ms: rule.ms, status, code: rule.code })
    }
    return fired
  }
}
