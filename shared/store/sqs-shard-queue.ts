import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs'
import { StoreUnavailableError } from '../errors.ts'
import { type ShardQueue, type ShardWork, shardWorkBody } from '../poller/shard-work.ts'

/** SQS takes at most ten messages per batch. */
const BATCH = 10

/**
 * The queue a scheduled run hands its parts to: one SQS message per worker, consumed by the
 * poller's `worker` entry point. A part SQS refuses is sent again once; then the call fails (the
 * next scheduled run hands out every shard anew, so nothing is lost, only postponed).
 */
export class SqsShardQueue implements ShardQueue {
  private readonly client: SQSClient

  /** `queueUrl` is also the endpoint the client calls (the SDK's default for SQS). */
  constructor(private readonly queueUrl: string) {
    this.client = new SQSClient({})
  }

  async hand(work: readonly ShardWork[]): Promise<void> {
    for (let start = 0; start < work.length; start += BATCH) {
      let entries = work.slice(start, start + BATCH).map((part, index) => ({
        Id: String(start + index),
        MessageBody: shardWorkBody(part),
      }))
      for (let attempt = 0; entries.length > 0; attempt++) {
        const result = await this.client
          .send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }))
          .catch((error: unknown) => {
            throw new StoreUnavailableError('SQS SendMessageBatch failed', { cause: error })
          })
        const failed = new Set((result.Failed ?? []).map((entry) => entry.Id))
        entries = entries.filter((entry) => failed.has(entry.Id))
        if (entries.length > 0 && attempt >= 1) {
          throw new StoreUnavailableError(
            `SQS refused ${entries.length} of the run's parts: ${(result.Failed ?? []).map((entry) => entry.Code).join(', ')}`,
          )
        }
      }
    }
  }
}
