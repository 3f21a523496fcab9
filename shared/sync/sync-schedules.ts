import * as z from 'zod'
import { INSTANCE_ID_PATTERN, normalizeDomainName } from '../domain-name.ts'

const DomainList = z.array(
  z.string().transform((value, ctx) => {
    const normalized = normalizeDomainName(value)
    if (normalized.ok) return normalized.value
    ctx.addIssue({ code: 'custom', message: `${value} ${normalized.reason}` })
    return z.NEVER
  }),
)
const InstanceList = z.array(z.string().regex(INSTANCE_ID_PATTERN, 'is not an instance id'))

/** `rate(5 minutes)` or a six-field EventBridge `cron(...)`. */
const ScheduleExpression = z
  .string()
  .regex(
    /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/,
    'must be rate(N minutes|hours|days) or cron(six fields)',
  )

export const SyncScheduleSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9-]{1,40}$/, 'letters, digits and hyphens, at most 40'),
  schedule: ScheduleExpression,
  enabled: z.boolean().default(true),
  domains: DomainList.default([]),
  instanceIds: InstanceList.default([]),
})
export type SyncSchedule = z.infer<typeof SyncScheduleSchema>

export const SyncSchedulesFileSchema = z.strictObject({
  $comment: z.string().optional(),
  schedules: z
    .array(SyncScheduleSchema)
    .refine(
      (schedules) => new Set(schedules.map((schedule) => schedule.name)).size === schedules.length,
      'schedule names must be unique',
    ),
})

/** What a sync invocation receives: the EventBridge envelope, or the `input:` form. */
export const SyncEventSchema = z.looseObject({
  id: z.string().min(1).optional(),
  time: z.string().optional(),
  'detail-type': z.string().optional(),
  detail: z.looseObject({}).optional(),
  schedule: z.string().optional(),
  domains: DomainList.optional(),
  instanceIds: InstanceList.optional(),
})

export interface SyncRequest {
  /** Idempotency key base: a retried invocation of the same event submits nothing again. */
  readonly eventId: string
  readonly schedule: string | undefined
  readonly domains: readonly string[]
  readonly instanceIds: readonly string[]
}

/**
 * Reads a sync event. The lists come from the event itself (`input:`), from its `detail`, or from
 * the named schedule in the schedules file. The event id is the EventBridge event id, else
 * `<schedule>@<time>`, else the Lambda request id (stable across Lambda's own retries).
 */
export function parseSyncEvent(
  event: unknown,
  schedules: readonly SyncSchedule[],
  fallbackId: string,
): SyncRequest {
  const parsed = SyncEventSchema.parse(event ?? {})
  const detail = parsed.detail ? SyncEventSchema.parse(parsed.detail) : undefined
  const scheduleName = parsed.schedule ?? detail?.schedule
  const named = scheduleName
    ? schedules.find((schedule) => schedule.name === scheduleName)
    : undefined
  const domains = parsed.domains ?? detail?.domains ?? named?.domains ?? []
  const instanceIds = parsed.instanceIds ?? detail?.instanceIds ?? named?.instanceIds ?? []
  const eventId =
    parsed.id ??
    (scheduleName && parsed.time ? `${scheduleName}@${parsed.time}` : undefined) ??
    fallbackId
  return {
    eventId,
    schedule: scheduleName,
    domains: [...new Set(domains)],
    instanceIds: [...new Set(instanceIds)],
  }
}

/** Milliseconds between runs of a `rate(...)` expression (local timers); undefined for cron. */
export function rateMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression)
  if (!match) return undefined
  const unit = (match[2] as string).startsWith('minute')
    ? 60_000
    : (match[2] as string).startsWith('hour')
      ? 3_600_000
      : 86_400_000
  return Number(match[1]) * unit
}
