import type { FlatParams } from '#shared/aliyun/rpc-params.ts'
import { DIGEST_HEX_LENGTH, DNSSEC_ALGORITHMS } from '#shared/dns/dnskey.ts'
import { INSTANCE_ID_PATTERN } from '#shared/domain-name.ts'
import type { DetailStatus, DomainAccount, SignedRequest, TaskState } from './domain-account.ts'
import { EmulatorErrors } from './emulator-error.ts'

const ALGORITHMS: ReadonlySet<number> = new Set(DNSSEC_ALGORITHMS)
export const MAX_PAGE_SIZE = 1000

const DOMAIN_PATTERN =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/
const INSTANCE_PATTERN = INSTANCE_ID_PATTERN
const HOST_PATTERN = DOMAIN_PATTERN

export interface ActionContext {
  readonly account: DomainAccount
  readonly now: number
  readonly clientIp: string
  /** The request's signed Timestamp and its arrival time, kept on the tasks it creates. */
  readonly request?: SignedRequest
}

export type ActionHandler = (params: FlatParams, context: ActionContext) => object

function required(params: FlatParams, name: string): string {
  const value = params[name]
  if (value === undefined || value === '') throw EmulatorErrors.missingParameter(name)
  return value
}

function integer(params: FlatParams, name: string, min: number, max: number): number | undefined {
  const value = params[name]
  if (value === undefined || value === '') return undefined
  if (!/^-?\d+$/.test(value)) throw EmulatorErrors.invalidParameter(name, 'It must be an integer.')
  const number = Number(value)
  if (number < min || number > max) {
    throw EmulatorErrors.invalidParameter(name, `It must be between ${min} and ${max}.`)
  }
  return number
}

function requiredInteger(params: FlatParams, name: string, min: number, max: number): number {
  required(params, name)
  return integer(params, name, min, max) as number
}

function domainName(params: FlatParams, name = 'DomainName'): string {
  const value = required(params, name)
  const lower = value.toLowerCase()
  if (!DOMAIN_PATTERN.test(lower))
    throw EmulatorErrors.parameterIllegal(`${name} is not a domain name.`)
  return lower
}

function list(params: FlatParams, name: string): string[] {
  const values: string[] = []
  for (let index = 1; params[`${name}.${index}`] !== undefined; index++) {
    values.push(params[`${name}.${index}`] as string)
  }
  return values
}

function dsRecord(params: FlatParams) {
  const keyTag = requiredInteger(params, 'KeyTag', 0, 65_535)
  const algorithm = requiredInteger(params, 'Algorithm', 0, 255)
  const digestType = requiredInteger(params, 'DigestType', 0, 255)
  const digest = required(params, 'Digest')
  if (!ALGORITHMS.has(algorithm)) {
    throw EmulatorErrors.parameterIllegal(`Algorithm ${algorithm} is not supported.`)
  }
  const length = DIGEST_HEX_LENGTH[digestType]
  if (length === undefined)
    throw EmulatorErrors.parameterIllegal(`DigestType ${digestType} is not supported.`)
  if (!/^[0-9a-fA-F]+$/.test(digest) || digest.length !== length) {
    throw EmulatorErrors.parameterIllegal(
      `Digest must be ${length} hexadecimal characters for DigestType ${digestType}.`,
    )
  }
  return { keyTag, algorithm, digestType, digest: digest.toUpperCase() }
}

/** Submits a task to the account as the request's caller, answering its TaskNo. */
function submit(
  context: ActionContext,
  operation: Parameters<ActionContext['account']['submit']>[0],
  failed?: ReadonlyMap<string, string>,
) {
  const task = context.account.submit(
    operation,
    context.clientIp,
    context.now,
    context.request,
    failed,
  )
  return { TaskNo: task.taskNo }
}

function registeredDomain(params: FlatParams, context: ActionContext): string {
  const domain = domainName(params)
  context.account.assertRegistered(domain)
  return domain
}

/** `2018-01-25 20:46:57`: the service's own format, in China Standard Time (UTC+8). */
export function formatServiceTime(epochMs: number): string {
  return new Date(epochMs + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')
}

const DAY_MS = 86_400_000
const SERVICE_OFFSET_MS = 8 * 3_600_000
/** The first instant of the UTC+8 day that holds `epochMs`. */
export function startOfServiceDay(epochMs: number): number {
  return Math.floor((epochMs + SERVICE_OFFSET_MS) / DAY_MS) * DAY_MS - SERVICE_OFFSET_MS
}
/** The last millisecond of the UTC+8 day that holds `epochMs` (no later than the largest time). */
function endOfServiceDay(epochMs: number): number {
  if (epochMs >= Number.MAX_SAFE_INTEGER - DAY_MS) return epochMs
  return startOfServiceDay(epochMs) + DAY_MS - 1
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `Dec 26,2017 11:00:54`: the format QueryTaskList uses, UTC+8. */
function formatTaskListTime(epochMs: number): string {
  const date = new Date(epochMs + 8 * 3_600_000)
  const iso = date.toISOString()
  const day = String(date.getUTCDate()).padStart(2, '0')
  return `${MONTHS[date.getUTCMonth()]} ${day},${date.getUTCFullYear()} ${iso.slice(11, 19)}`
}

const DETAIL_STATUS_CODES: Record<DetailStatus, number> = {
  WAITING_EXECUTE: 0,
  EXECUTING: 1,
  EXECUTE_SUCCESS: 2,
  EXECUTE_FAILURE: 3,
}

function paging(params: FlatParams) {
  const pageNum = requiredInteger(params, 'PageNum', 1, 1_000_000)
  const pageSize = requiredInteger(params, 'PageSize', 1, MAX_PAGE_SIZE)
  return { pageNum, pageSize }
}

function page<T>(items: readonly T[], pageNum: number, pageSize: number) {
  const totalPages = Math.ceil(items.length / pageSize)
  return {
    slice: items.slice((pageNum - 1) * pageSize, pageNum * pageSize),
    meta: {
      TotalItemNum: items.length,
      CurrentPageNum: pageNum,
      PageSize: pageSize,
      TotalPageNum: totalPages,
      PrePage: pageNum > 1,
      NextPage: pageNum < totalPages,
    },
  }
}

export const ACTIONS: Readonly<Record<string, ActionHandler>> = {
  SaveSingleTaskForAddingDSRecord: (params, context) => {
    const record = dsRecord(params)
    const domain = registeredDomain(params, context)
    return submit(context, { type: 'addDs', domain, record })
  },
  SaveSingleTaskForModifyingDSRecord: (params, context) => {
    const record = dsRecord(params)
    const domain = registeredDomain(params, context)
    return submit(context, { type: 'modifyDs', domain, record })
  },
  SaveSingleTaskForDeletingDSRecord: (params, context) => {
    const keyTag = requiredInteger(params, 'KeyTag', 0, 65_535)
    const domain = registeredDomain(params, context)
    return submit(context, { type: 'deleteDs', domain, keyTag })
  },
  SaveSingleTaskForSynchronizingDSRecord: (params, context) => {
    const domain = registeredDomain(params, context)
    return submit(context, { type: 'syncDs', domain })
  },
  SaveSingleTaskForSynchronizingDnsHost: (params, context) => {
    const instanceId = required(params, 'InstanceId')
    if (!INSTANCE_PATTERN.test(instanceId))
      throw EmulatorErrors.parameterIllegal('InstanceId is not valid.')
    return submit(context, { type: 'syncDnsHost', instanceId })
  },
  SaveBatchTaskForModifyingDomainDns: (params, context) => {
    const aliyunDns = required(params, 'AliyunDns')
    if (aliyunDns !== 'true' && aliyunDns !== 'false') {
      throw EmulatorErrors.invalidParameter('AliyunDns', 'It must be true or false.')
    }
    const domains = list(params, 'DomainName').map((value) => value.toLowerCase())
    if (domains.length === 0) throw EmulatorErrors.missingParameter('DomainName.1')
    // A domain that is not registered refuses the whole batch, or — in a profile that fails it
    // per detail — only its own detail.
    const perDetail = context.account.options.behaviour.batchFailure === 'detail'
    const failed = new Map<string, string>()
    for (const domain of domains) {
      if (!DOMAIN_PATTERN.test(domain))
        throw EmulatorErrors.parameterIllegal(`${domain} is not a domain name.`)
      try {
        context.account.assertRegistered(domain)
      } catch (error) {
        if (!perDetail) throw error
        failed.set(domain, 'The domain name does not exist.')
      }
    }
    if (new Set(domains).size !== domains.length) {
      throw EmulatorErrors.parameterIllegal('DomainName contains duplicates.')
    }
    const nameServers = list(params, 'DomainNameServer').map((value) => value.toLowerCase())
    if (aliyunDns === 'false' && nameServers.length === 0) {
      throw EmulatorErrors.missingParameter('DomainNameServer.1')
    }
    for (const host of nameServers) {
      if (!HOST_PATTERN.test(host))
        throw EmulatorErrors.parameterIllegal(`${host} is not a host name.`)
    }
    return submit(
      context,
      { type: 'changeDns', domains, nameServers: aliyunDns === 'true' ? [] : nameServers },
      failed,
    )
  },
  QueryTaskDetailList: (params, context) => {
    const taskNo = required(params, 'TaskNo')
    const { pageNum, pageSize } = paging(params)
    const statusFilter = integer(params, 'TaskStatus', 0, 3)
    const domainFilter = params.DomainName?.toLowerCase()
    const instanceFilter = params.InstanceId
    context.account.advance(context.now)
    const task = context.account.taskByNo(taskNo)
    const rows = (task?.details ?? [])
      .map((detail) => ({
        detail,
        status: context.account.statusOf(task as TaskState, detail, context.now),
      }))
      .filter(({ detail, status }) => {
        if (statusFilter !== undefined && DETAIL_STATUS_CODES[status] !== statusFilter) return false
        if (domainFilter && detail.target !== domainFilter) return false
        if (instanceFilter && detail.target !== instanceFilter) return false
        return true
      })
    const { slice, meta } = page(rows, pageNum, pageSize)
    return {
      ...meta,
      Data: {
        TaskDetail: slice.map(({ detail, status }) => {
          const t = task as TaskState
          const isInstance = t.kind.type === 'syncDnsHost'
          return {
            TaskNo: t.taskNo,
            TaskDetailNo: detail.taskDetailNo,
            TaskType: context.account.typeOf(t.kind).type,
            TaskTypeDescription: context.account.typeOf(t.kind).description,
            InstanceId: isInstance ? detail.target : '',
            DomainName: isInstance ? '' : detail.target,
            TaskStatus: status,
            TaskStatusCode: DETAIL_STATUS_CODES[status],
            CreateTime: formatServiceTime(t.createdAt),
            UpdateTime: formatServiceTime(
              detail.outcome ? t.createdAt + t.durationMs : t.createdAt,
            ),
            TryCount: detail.outcome ? 1 : 0,
            ErrorMsg:
              detail.outcome?.status === 'EXECUTE_SUCCESS'
                ? 'The operation is successful.'
                : (detail.outcome?.errorMsg ?? ''),
            FailReason: detail.outcome?.status === 'EXECUTE_FAILURE' ? detail.outcome.errorMsg : '',
            TaskResult: detail.outcome?.status === 'EXECUTE_SUCCESS' ? 'success' : '',
          }
        }),
      },
    }
  },
  QueryTaskList: (params, context) => {
    const { pageNum, pageSize } = paging(params)
    const begin = integer(params, 'BeginCreateTime', 0, Number.MAX_SAFE_INTEGER) ?? 0
    const end =
      integer(params, 'EndCreateTime', 0, Number.MAX_SAFE_INTEGER) ?? Number.MAX_SAFE_INTEGER
    context.account.advance(context.now)
    // "Only query by day is supported": each bound stands for its whole day (UTC+8).
    const { slice, meta } = page(
      context.account.tasksCreatedBetween(
        startOfServiceDay(begin),
        endOfServiceDay(end),
        context.now,
      ),
      pageNum,
      pageSize,
    )
    return {
      ...meta,
      Data: {
        TaskInfo: slice.map((task) => {
          const done = task.settled
          const succeeded = task.details.filter(
            (detail) => detail.outcome?.status === 'EXECUTE_SUCCESS',
          ).length
          return {
            TaskNo: task.taskNo,
            TaskType: context.account.typeOf(task.kind).type,
            TaskTypeCode: context.account.typeOf(task.kind).code,
            TaskBizType: 'DOMAIN',
            TaskResult: done ? `${succeeded}/${task.details.length}` : '',
            TaskTypeDescription: context.account.typeOf(task.kind).description,
            TaskStatus: done
              ? 'COMPLETE'
              : context.now < task.createdAt + task.durationMs / 2
                ? 'WAITING_EXECUTE'
                : 'EXECUTING',
            TaskStatusCode: done ? 3 : context.now < task.createdAt + task.durationMs / 2 ? 1 : 2,
            TaskNum: task.details.length,
            CreateTime: formatTaskListTime(task.createdAt),
            Clientip: task.clientIp,
            TaskCancelStatus: 'INIT',
            TaskCancelStatusCode: 0,
          }
        }),
      },
    }
  },
  QueryDSRecord: (params, context) => {
    const domain = registeredDomain(params, context)
    context.account.advance(context.now)
    return {
      DSRecordList: (context.account.dsRecords.get(domain) ?? []).map((record) => ({
        KeyTag: record.keyTag,
        Algorithm: record.algorithm,
        DigestType: record.digestType,
        Digest: record.digest,
      })),
    }
  },
  QueryDomainByDomainName: (params, context) => {
    const domain = registeredDomain(params, context)
    context.account.advance(context.now)
    const facts = context.account.domainFacts(domain)
    return {
      DomainName: domain,
      InstanceId: facts.instanceId,
      UserId: facts.userId,
      DnsList: { Dns: [...context.account.nameServersOf(domain)] },
      DomainStatus: '3',
      DomainType: 'gTLD',
      RegistrationDate: formatServiceTime(facts.registeredAt),
      RegistrationDateLong: facts.registeredAt,
      ExpirationDate: formatServiceTime(facts.expiresAt),
      ExpirationDateLong: facts.expiresAt,
      ExpirationCurrDateDiff: Math.floor((facts.expiresAt - context.now) / DAY_MS),
      Email: `hostmaster@${domain}`,
      DomainNameProxyService: false,
      Premium: false,
      RealNameStatus: 'SUCCEED',
      DomainNameVerificationStatus: 'SUCCEED',
      RegistrantType: '2',
      RegistrantName: 'Example Holdings',
      RegistrantOrganization: 'Example Holdings',
      TransferProhibitionLock: 'CLOSE',
      UpdateProhibitionLock: 'CLOSE',
      TransferOutStatus: '',
    }
  },
  QueryDnsHost: (params, context) => {
    const instanceId = required(params, 'InstanceId')
    if (!INSTANCE_PATTERN.test(instanceId))
      throw EmulatorErrors.parameterIllegal('InstanceId is not valid.')
    return {
      DnsHostList: (context.account.dnsHosts.get(instanceId) ?? []).map((host) => ({
        DnsName: host.dnsName,
        IpList: host.ips,
      })),
    }
  },
}
