import type { startEmulator } from '#infra/emulator/server.ts'
import type { DynamoDbTaskStore } from '#shared/store/dynamodb-task-store.ts'
import type { Task } from '#shared/tasks/task.ts'

/** Gateway tasks `pending` and due now, each with its upstream task in the emulator. */
export async function seedPendingTasks(
  store: DynamoDbTaskStore,
  emulator: Awaited<ReturnType<typeof startEmulator>>,
  prefix: string,
  count: number,
): Promise<void> {
  const now = Date.now()
  const iso = new Date(now).toISOString()
  const tasks: Task[] = []
  for (let i = 0; i < count; i++) {
    const domain = `${prefix}-${i}.example.com`
    const upstream = emulator.account.submit({ type: 'syncDs', domain }, '127.0.0.1', now - 10)
    tasks.push({
      id: `tsk_${prefix}${String(i).padStart(16, '0')}`,
      tenant: 'bench',
      keyId: 'bench',
      action: 'ds.sync',
      status: 'pending',
      version: 1,
      command: { action: 'ds.sync', domain },
      upstream: { taskNo: upstream.taskNo },
      details: [{ target: domain, status: 'pending' }],
      callback: { url: undefined, state: 'none', attempts: 0 },
      createdAt: iso,
      updatedAt: iso,
      // A due time of its own: the embedded engine keys an index entry by the index key and a
      // 24-bit hash of the item's key, so items with the same shard and due time can overwrite
      // each other's entry (20 000 seeded at one instant lost 2). DynamoDB has no such limit.
      dueAt: now - i,
      pollCount: 0,
    })
  }
  for (let start = 0; start < tasks.length; start += 64) {
    await Promise.all(tasks.slice(start, start + 64).map((task) => store.create(task)))
  }
}
