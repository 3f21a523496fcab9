import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort } from './free-port.ts'

const SERIAL_SERVER = fileURLToPath(new URL('./moto-serial.py', import.meta.url))

/**
 * Starts moto_server (the AWS service emulator preinstalled on this machine) on loopback: the
 * real SSM API for the secret-parameter path of the Lambda bundles, and DynamoDB for the moto
 * project. Requests are served one at a time, so conditional writes are atomic as in DynamoDB.
 */
export async function startMoto(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const port = await freePort()
  // A test fork may end without calling stop(), even by a signal: a small shell watchdog stops
  // the server as soon as this process is gone, so no server outlives its tests.
  const watchdog = [
    // moto_server's own app, one request at a time (see moto-serial.py: atomic conditional writes).
    // It stands in for a remote service, whose capacity a busy test machine does not take: it runs
    // before the machine's other processes (where the system allows; `nice` goes on otherwise).
    `nice -n -10 python3 ${SERIAL_SERVER} 127.0.0.1 ${port} 2>/dev/null & server=$!`,
    `trap 'kill $server 2>/dev/null' EXIT TERM INT`,
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done`,
  ].join('\n')
  const child: ChildProcess = spawn('sh', ['-c', watchdog], { stdio: 'ignore' })
  const killOnExit = () => child.kill('SIGTERM')
  process.once('exit', killOnExit)
  const endpoint = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`)
      if (response.ok) break
    } catch {}
    if (child.exitCode !== null) throw new Error('moto_server exited; is it installed?')
    if (Date.now() > deadline) throw new Error('moto_server did not start')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    endpoint,
    stop: async () => {
      process.removeListener('exit', killOnExit)
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise((resolve) => child.once('exit', resolve))
    },
  }
}
