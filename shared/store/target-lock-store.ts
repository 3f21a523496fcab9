import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb'
import { conditionalWrite, toEpochSeconds } from './dynamodb.ts'

/**
 * One lock per registry target (a domain, or a DNS-host instance) held by the gateway task whose
 * submission for it has an outcome not yet known: while it is held, no other gateway task sends
 * a `Save*` for that target, so a reconciler can never take another live submission's upstream
 * task for its own. A lock expires by itself when its holder's absence becomes provable (after
 * that no upstream task can appear for it), so a crashed holder blocks a target only that long.
 */
export interface TargetLockStore {
  /** Takes the lock (or keeps it, if `taskId` holds it); false when another task holds it. */
  acquire(target: string, taskId: string, until: number, now: number): Promise<boolean>
  /** Gives the lock up if `taskId` holds it. */
  release(target: string, taskId: string): Promise<void>
}

const keyOf = (target: string) => ({ pk: `TARGET#${target}`, sk: 'TARGET' })

export class DynamoDbTargetLockStore implements TargetLockStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  acquire(target: string, taskId: string, until: number, now: number): Promise<boolean> {
    return conditionalWrite('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keyOf(target),
            type: 'targetLock',
            taskId,
            until,
            expiresAt: toEpochSeconds(until) + 86_400,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #until < :now OR taskId = :task',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now, ':task': taskId },
        }),
      ),
    )
  }

  async release(target: string, taskId: string): Promise<void> {
    // A put that ends the lock now, only if still ours (the poller's role writes with PutItem).
    await conditionalWrite('PutItem', () =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keyOf(target), type: 'targetLock', taskId, until: 0, expiresAt: 0 },
          ConditionExpression: 'taskId = :task',
          ExpressionAttributeValues: { ':task': taskId },
        }),
      ),
    )
  }
}

/** Takes every lock of a task's targets, or none (what it took is given back). */
export async function acquireAll(
  locks: TargetLockStore,
  targets: readonly string[],
  taskId: string,
  until: number,
  now: number,
): Promise<boolean> {
  const taken: string[] = []
  for (const target of [...new Set(targets)].sort()) {
    if (!(await locks.acquire(target, taskId, until, now))) {
      await Promise.all(taken.map((held) => locks.release(held, taskId)))
      return false
    }
    taken.push(target)
  }
  return true
}

export async function releaseAll(
  locks: TargetLockStore,
  targets: readonly string[],
  taskId: string,
): Promise<void> {
  await Promise.all([...new Set(targets)].map((target) => locks.release(target, taskId)))
}
