import * as z from 'zod'

/**
 * Response schemas for the Domain API, written defensively: old documentation shows lists as a
 * single object, numbers as strings and lower-case keys, so each is accepted and normalised.
 */

const LooseInt = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform(Number)
const LooseBool = z
  .union([z.boolean(), z.enum(['true', 'false', 'True', 'False'])])
  .transform((value) => value === true || value === 'true' || value === 'True')
const LooseString = z.union([z.string(), z.number()]).transform(String)

/** `{ X: [..] }`, `{ X: {..} }`, `[..]` or nothing → an array. */
function listOf<T extends z.ZodType>(itemName: string, item: T) {
  return z
    .unknown()
    .transform((value): unknown[] => {
      if (value === undefined || value === null || value === '') return []
      if (Array.isArray(value)) return value
      if (typeof value === 'object' && Object.keys(value).length === 0) return []
      if (typeof value === 'object' && itemName in value) {
        const inner = (value as Record<string, unknown>)[itemName]
        if (inner === undefined || inner === null) return []
        return Array.isArray(inner) ? inner : [inner]
      }
      return [value]
    })
    .pipe(z.array(item))
}

/** Accepts `TaskNo` or `taskNo`: the seed documents show both spellings. */
export const SubmitTaskResponseSchema = z
  .looseObject({
    RequestId: z.string().optional(),
    requestId: z.string().optional(),
    TaskNo: z.string().min(1).optional(),
    taskNo: z.string().min(1).optional(),
  })
  .transform((raw, ctx) => {
    const taskNo = raw.TaskNo ?? raw.taskNo
    if (!taskNo) {
      ctx.addIssue({ code: 'custom', message: 'TaskNo is missing' })
      return z.NEVER
    }
    return { requestId: raw.RequestId ?? raw.requestId ?? '', taskNo }
  })
export type SubmitTaskResult = z.infer<typeof SubmitTaskResponseSchema>

export const TASK_DETAIL_STATUSES = [
  'WAITING_EXECUTE',
  'EXECUTING',
  'EXECUTE_SUCCESS',
  'EXECUTE_FAILURE',
] as const
export type TaskDetailStatus = (typeof TASK_DETAIL_STATUSES)[number]

const TaskDetailStatusSchema = z.union([
  z.enum(TASK_DETAIL_STATUSES),
  LooseInt.pipe(z.number().int().min(0).max(3)).transform((code) => TASK_DETAIL_STATUSES[code]!),
])

export const TaskDetailSchema = z
  .looseObject({
    TaskNo: z.string(),
    TaskDetailNo: LooseString.optional(),
    TaskType: z.string().optional(),
    InstanceId: z.string().optional(),
    DomainName: z.string().optional(),
    TaskStatus: TaskDetailStatusSchema.optional(),
    TaskStatusCode: TaskDetailStatusSchema.optional(),
    CreateTime: z.string().optional(),
    UpdateTime: z.string().optional(),
    TryCount: LooseInt.optional(),
    ErrorMsg: z.string().optional(),
    FailReason: z.string().optional(),
    TaskResult: LooseString.optional(),
    TaskTypeDescription: z.string().optional(),
  })
  .transform((raw, ctx) => {
    const status = raw.TaskStatus ?? raw.TaskStatusCode
    if (!status) {
      ctx.addIssue({ code: 'custom', message: 'TaskStatus is missing' })
      return z.NEVER
    }
    return {
      taskNo: raw.TaskNo,
      taskDetailNo: raw.TaskDetailNo,
      taskType: raw.TaskType,
      instanceId: raw.InstanceId,
      domainName: raw.DomainName?.toLowerCase(),
      status,
      createTime: raw.CreateTime,
      updateTime: raw.UpdateTime,
      tryCount: raw.TryCount,
      errorMessage: raw.ErrorMsg || raw.FailReason || undefined,
      taskResult: raw.TaskResult,
    }
  })
export type TaskDetail = z.infer<typeof TaskDetailSchema>

const PagingShape = {
  RequestId: z.string().optional(),
  TotalItemNum: LooseInt.default(0),
  CurrentPageNum: LooseInt.default(1),
  PageSize: LooseInt.optional(),
  TotalPageNum: LooseInt.default(0),
  PrePage: LooseBool.default(false),
  NextPage: LooseBool.default(false),
}

/** A listing's paging fields as the client speaks them. */
const pageOf = (raw: {
  RequestId?: string | undefined
  TotalItemNum: number
  CurrentPageNum: number
  TotalPageNum: number
  NextPage: boolean
}) => ({
  requestId: raw.RequestId ?? '',
  totalItems: raw.TotalItemNum,
  pageNum: raw.CurrentPageNum,
  totalPages: raw.TotalPageNum,
  hasNextPage: raw.NextPage,
})

export const QueryTaskDetailListResponseSchema = z
  .looseObject({ ...PagingShape, Data: listOf('TaskDetail', TaskDetailSchema) })
  .transform((raw) => ({ ...pageOf(raw), details: raw.Data }))
export type TaskDetailPage = z.infer<typeof QueryTaskDetailListResponseSchema>

export const TaskInfoSchema = z
  .looseObject({
    TaskNo: z.string(),
    TaskType: z.string().optional(),
    TaskStatus: z.string().optional(),
    TaskStatusCode: LooseInt.optional(),
    TaskNum: LooseInt.optional(),
    CreateTime: z.string().optional(),
    Clientip: z.string().optional(),
    TaskTypeDescription: z.string().optional(),
  })
  .transform((raw) => ({
    taskNo: raw.TaskNo,
    taskType: raw.TaskType,
    status: raw.TaskStatus,
    domainCount: raw.TaskNum,
    createTime: raw.CreateTime,
    clientIp: raw.Clientip,
  }))
export type TaskInfo = z.infer<typeof TaskInfoSchema>

export const QueryTaskListResponseSchema = z
  .looseObject({ ...PagingShape, Data: listOf('TaskInfo', TaskInfoSchema) })
  .transform((raw) => ({ ...pageOf(raw), tasks: raw.Data }))
export type TaskInfoPage = z.infer<typeof QueryTaskListResponseSchema>

export const DsRecordSchema = z
  .looseObject({
    KeyTag: LooseInt,
    Algorithm: LooseInt,
    DigestType: LooseInt,
    Digest: z.string(),
  })
  .transform((raw) => ({
    keyTag: raw.KeyTag,
    algorithm: raw.Algorithm,
    digestType: raw.DigestType,
    digest: raw.Digest.toLowerCase(),
  }))
export type DsRecord = z.infer<typeof DsRecordSchema>

export const QueryDsRecordResponseSchema = z
  .looseObject({
    RequestId: z.string().optional(),
    DSRecordList: listOf('DSRecord', DsRecordSchema),
  })
  .transform((raw) => ({ requestId: raw.RequestId ?? '', records: raw.DSRecordList }))

export const DnsHostSchema = z
  .looseObject({
    DnsName: z.string(),
    IpList: listOf('Ip', z.string()),
  })
  .transform((raw) => ({ dnsName: raw.DnsName, ips: raw.IpList }))
export type DnsHost = z.infer<typeof DnsHostSchema>

export const QueryDnsHostResponseSchema = z
  .looseObject({
    RequestId: z.string().optional(),
    DnsHostList: listOf('DnsHost', DnsHostSchema),
  })
  .transform((raw) => ({ requestId: raw.RequestId ?? '', hosts: raw.DnsHostList }))

/**
 * `QueryDomainByDomainName`: the domain's registration facts; the gateway reads its name servers
 * (`DnsList.Dns`) and instance id. Dates come both as service-time strings and epoch ms.
 */
export const QueryDomainResponseSchema = z
  .looseObject({
    RequestId: z.string().optional(),
    DomainName: z.string(),
    InstanceId: z.string().optional(),
    DnsList: listOf('Dns', z.string()),
    DomainStatus: z.string().optional(),
    ExpirationDateLong: z.number().optional(),
    RegistrationDateLong: z.number().optional(),
  })
  .transform((raw) => ({
    requestId: raw.RequestId ?? '',
    domainName: raw.DomainName,
    instanceId: raw.InstanceId,
    nameServers: raw.DnsList.map((server) => server.toLowerCase().replace(/\.$/, '')),
    domainStatus: raw.DomainStatus,
    expiresAt: raw.ExpirationDateLong,
    registeredAt: raw.RegistrationDateLong,
  }))
export type DomainInfo = z.infer<typeof QueryDomainResponseSchema>

/** An error answer: `{ RequestId, HostId, Code, Message, Recommend }`. */
export const ErrorResponseSchema = z.looseObject({
  RequestId: z.string().optional(),
  HostId: z.string().optional(),
  Code: z.string(),
  Message: z.string().optional(),
  Recommend: z.string().optional(),
})
