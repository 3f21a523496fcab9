import type { DsRecord } from '../dns/dnskey.ts'

/**
 * Planning a domain's desired state against what the registry holds: pure functions, no I/O.
 * DS records are matched by content (key tag, algorithm, digest type, digest; digests compared
 * case-insensitively), never by position or by a registrar id.
 */

export const normalizeDs = (record: DsRecord): DsRecord => ({
  keyTag: record.keyTag,
  algorithm: record.algorithm,
  digestType: record.digestType,
  digest: record.digest.toLowerCase(),
})

const dsKey = (record: DsRecord) =>
  `${record.keyTag}/${record.algorithm}/${record.digestType}/${record.digest.toLowerCase()}`

export interface DsPlan {
  readonly add: readonly DsRecord[]
  readonly remove: readonly DsRecord[]
  readonly keep: readonly DsRecord[]
}

/** A desired set the registry cannot reach by adds and key-tag deletions. */
export class UnplannableError extends Error {
  override name = 'UnplannableError'
}

export function planDs(current: readonly DsRecord[], desired: readonly DsRecord[]): DsPlan {
  const wanted = new Map(desired.map((record) => [dsKey(record), normalizeDs(record)]))
  const held = new Map(current.map((record) => [dsKey(record), normalizeDs(record)]))
  const add = [...wanted].filter(([key]) => !held.has(key)).map(([, record]) => record)
  const keep = [...held].filter(([key]) => wanted.has(key)).map(([, record]) => record)
  const remove = [...held].filter(([key]) => !wanted.has(key)).map(([, record]) => record)
  // The registry deletes DS records by key tag: one to remove must not share its tag with one
  // to keep or to add.
  const staying = new Set([...keep, ...add].map((record) => record.keyTag))
  const clash = remove.find((record) => staying.has(record.keyTag))
  if (clash) {
    throw new UnplannableError(
      `The registry deletes DS records by key tag: the record with key tag ${clash.keyTag} and digest type ${clash.digestType} cannot be removed while another record with that key tag stays.`,
    )
  }
  return { add, remove, keep }
}

/** The upstream steps of a DS plan in the safe order: every add, then one delete per key tag. */
export function dsSteps(plan: DsPlan) {
  const tags = [...new Set(plan.remove.map((record) => record.keyTag))]
  return {
    adds: plan.add,
    deletes: tags,
  }
}

export interface DsDrift {
  /** Desired records the registry lacks. */
  readonly missing: readonly DsRecord[]
  /** Records the registry holds that the desired state does not list. */
  readonly unexpected: readonly DsRecord[]
}

export function dsDrift(current: readonly DsRecord[], desired: readonly DsRecord[]): DsDrift {
  const wanted = new Set(desired.map(dsKey))
  const held = new Set(current.map(dsKey))
  return {
    missing: desired.filter((record) => !held.has(dsKey(record))).map(normalizeDs),
    unexpected: current.filter((record) => !wanted.has(dsKey(record))).map(normalizeDs),
  }
}

/** Name servers of Alibaba Cloud DNS (as the registry lists them for a domain it hosts). */
const ALIYUN_DNS_SUFFIXES = ['.hichina.com', '.alidns.com']

export const normalizeHost = (host: string): string => host.toLowerCase().replace(/\.$/, '')

export function isAliyunDns(servers: readonly string[]): boolean {
  return (
    servers.length > 0 &&
    servers.every((server) =>
      ALIYUN_DNS_SUFFIXES.some((suffix) => normalizeHost(server).endsWith(suffix)),
    )
  )
}

export interface DesiredNameServers {
  readonly aliyunDns: boolean
  /** Empty with `aliyunDns`. */
  readonly nameServers: readonly string[]
}

export interface NameServerPlan {
  readonly current: DesiredNameServers
  readonly desired: DesiredNameServers
  /** Servers to add and remove (with `aliyunDns`, the registry picks its own servers). */
  readonly add: readonly string[]
  readonly remove: readonly string[]
  readonly keep: readonly string[]
  /** Whether a registry task is needed. */
  readonly change: boolean
}

export function currentNameServers(servers: readonly string[]): DesiredNameServers {
  const normalized = servers.map(normalizeHost)
  return { aliyunDns: isAliyunDns(normalized), nameServers: normalized }
}

export function planNameServers(
  servers: readonly string[],
  desired: DesiredNameServers,
): NameServerPlan {
  const current = currentNameServers(servers)
  const wanted = desired.aliyunDns ? [] : desired.nameServers.map(normalizeHost)
  if (desired.aliyunDns) {
    return {
      current,
      desired: { aliyunDns: true, nameServers: [] },
      add: [],
      remove: current.aliyunDns ? [] : current.nameServers,
      keep: current.aliyunDns ? current.nameServers : [],
      change: !current.aliyunDns,
    }
  }
  const held = new Set(current.nameServers)
  const want = new Set(wanted)
  const add = wanted.filter((server) => !held.has(server))
  const remove = current.nameServers.filter((server) => !want.has(server))
  return {
    current,
    desired: { aliyunDns: false, nameServers: wanted },
    add,
    remove,
    keep: current.nameServers.filter((server) => want.has(server)),
    change: add.length > 0 || remove.length > 0,
  }
}

export interface NameServerDrift {
  readonly inSync: boolean
  readonly current: DesiredNameServers
  readonly desired: DesiredNameServers
  readonly missing: readonly string[]
  readonly unexpected: readonly string[]
}

export function nameServerDrift(
  servers: readonly string[],
  desired: DesiredNameServers,
): NameServerDrift {
  const plan = planNameServers(servers, desired)
  return {
    inSync: !plan.change,
    current: plan.current,
    desired: plan.desired,
    missing: plan.add,
    unexpected: plan.remove,
  }
}
