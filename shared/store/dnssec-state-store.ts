import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb'
import type { RolloverPhase } from '../dns/rollover.ts'
import type { ChildKey, ServerView } from '../dns/scan-zone.ts'
import type { DsRecord } from '../dnssec.ts'
import { putVersioned, storeCall } from './dynamodb.ts'
import { INDEX_BY_OWNER } from './table-definition.ts'

/** A domain enrolled in CDS/CDNSKEY-driven DS automation, and where its rollover stands. */
export interface DnssecState {
  readonly domain: string
  readonly tenant: string
  readonly keyId: string
  readonly callbackUrl?: string | undefined
  readonly mode: 'cds' | 'off'
  /** Accept an unsigned delegation's first CDS after consistent scans over TCP. */
  readonly bootstrap: boolean
  /** Act on the delete signal (remove every DS). */
  readonly allowDelete: boolean
  readonly phase: RolloverPhase
  readonly waitReason?: string | undefined
  /** Since when the current phase has lasted (for the stuck limit). */
  readonly phaseSince?: string | undefined
  /** When the parent was first seen serving the desired DS set. */
  readonly publishedSince?: number | undefined
  readonly stuckReported?: boolean | undefined
  /** A failed scan was reported; the next success clears it. */
  readonly failureReported?: boolean | undefined
  /** Consecutive identical bootstrap scans over TCP. */
  readonly bootstrapScans?: number | undefined
  readonly bootstrapDigest?: string | undefined
  readonly lastScan?:
    | {
        readonly at: string
        readonly ok: boolean
        readonly reason?: string | undefined
        readonly servers: readonly ServerView[]
        readonly keys: readonly ChildKey[]
        readonly cds: readonly DsRecord[] | 'delete'
        readonly registry: readonly DsRecord[]
        readonly parent?:
          | { readonly records: readonly DsRecord[]; readonly ttlSeconds: number }
          | undefined
      }
    | undefined
  readonly changeId?: string | undefined
  readonly version: number
}

export interface DnssecStateStore {
  get(domain: string): Promise<DnssecState | undefined>
  save(next: Omit<DnssecState, 'version'>, expectedVersion: number | undefined): Promise<boolean>
  list(
    limit: number,
    start: Record<string, unknown> | undefined,
  ): Promise<{ items: DnssecState[]; next?: Record<string, unknown> | undefined }>
}

const ENROLLED = 'DNSSEC'

export class DynamoDbDnssecStateStore implements DnssecStateStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(domain: string): Promise<DnssecState | undefined> {
    const result = await storeCall('GetItem', () =>
      this.db.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: `DNSSEC#${domain}`, sk: 'DNSSEC' },
          ConsistentRead: true,
        }),
      ),
    )
    return result.Item ? fromItem(result.Item) : undefined
  }

  save(next: Omit<DnssecState, 'version'>, expectedVersion: number | undefined) {
    const item = {
      ...next,
      pk: `DNSSEC#${next.domain}`,
      sk: 'DNSSEC',
      type: 'dnssec',
      gsi1pk: ENROLLED,
      gsi1sk: next.domain,
    }
    return putVersioned(this.db, this.tableName, item, expectedVersion)
  }

  async list(limit: number, start: Record<string, unknown> | undefined) {
    const page = await storeCall('Query', () =>
      this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX_BY_OWNER,
          KeyConditionExpression: 'gsi1pk = :enrolled',
          ExpressionAttributeValues: { ':enrolled': ENROLLED },
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      ),
    )
    return { items: (page.Items ?? []).map(fromItem), next: page.LastEvaluatedKey }
  }
}

function fromItem(item: Record<string, unknown>): DnssecState {
  const { pk: _pk, sk: _sk, type: _type, gsi1pk: _g1, gsi1sk: _g2, ...state } = item
  return state as unknown as DnssecState
}
