import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type { ChangeKind, DesiredDs, DesiredNs } from '../changes/change.ts'
import { putVersioned, storeCall } from './dynamodb.ts'
import { INDEX_BY_OWNER } from './table-definition.ts'

/** The change that applied a desired state. */
export interface AppliedBy {
  readonly appliedAt: string
  readonly changeId: string
  readonly changeCreatedAt: string
}

/** The last applied desired state of one domain, who manages it, and its drift. */
export interface DomainState {
  readonly domain: string
  /** The tenant that manages the domain; another tenant neither sees nor changes it. */
  readonly tenant: string
  /** The key whose secrets sign the domain's events, and where they go. */
  readonly keyId: string
  readonly callbackUrl?: string | undefined
  readonly ds?: (DesiredDs & AppliedBy) | undefined
  readonly nameServers?: (DesiredNs & AppliedBy) | undefined
  /** The change still running per kind: a new one is planned after it and runs only if it succeeds. */
  readonly open?: Partial<Record<ChangeKind, string>> | undefined
  /** What the last drift check reported (an event is sent only when this flips). */
  readonly drift?:
    | {
        readonly inSync: boolean
        readonly since: string
        readonly checkedAt: string
        /** Events sent so far: part of each event's id, so a retried check sends it once. */
        readonly reported: number
      }
    | undefined
  readonly version: number
}

export interface DomainStatePage {
  readonly items: DomainState[]
  readonly next?: Record<string, unknown> | undefined
}

export interface DomainStateStore {
  get(domain: string): Promise<DomainState | undefined>
  /** Writes if still at `expectedVersion` (undefined: not yet written). */
  save(next: Omit<DomainState, 'version'>, expectedVersion: number | undefined): Promise<boolean>
  /** Every managed domain, a page at a time. */
  list(limit: number, start: Record<string, unknown> | undefined): Promise<DomainStatePage>
}

const MANAGED = 'MANAGED'

export class DynamoDbDomainStateStore implements DomainStateStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(domain: string): Promise<DomainState | undefined> {
    const result = await storeCall('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: `DOMAIN#${domain}`, sk: 'STATE' },
          ConsistentRead: true,
        }),
      ),
    )
    return result.Item ? fromItem(result.Item) : undefined
  }

  save(next: Omit<DomainState, 'version'>, expectedVersion: number | undefined) {
    const item = {
      ...next,
      pk: `DOMAIN#${next.domain}`,
      sk: 'STATE',
      type: 'domainState',
      gsi1pk: MANAGED,
      gsi1sk: next.domain,
    }
    return putVersioned(this.db, this.tableName, item, expectedVersion)
  }

  async list(limit: number, start: Record<string, unknown> | undefined): Promise<DomainStatePage> {
    const page = await storeCall('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_BY_OWNER,
          KeyConditionExpression: 'gsi1pk = :managed',
          ExpressionAttributeValues: { ':managed': MANAGED },
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      ),
    )
    return { items: (page.Items ?? []).map(fromItem), next: page.LastEvaluatedKey }
  }
}

function fromItem(item: Record<string, unknown>): DomainState {
  const { pk: _pk, sk: _sk, type: _type, gsi1pk: _g1, gsi1sk: _g2, ...state } = item
  return state as unknown as DomainState
}
