import { spawn } from 'node:child_process'

/** Starts the embedded DynamoDB in a child process; returns its endpoint and a stop function. */
export async function startStoreProcess(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, ['bench/fixtures/dynalite-process.mjs'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const port = await new Promise<number>((resolve) =>
    child.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim()))),
  )
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      child.kill()
    },
  }
}
