import { type ChildProcess, spawn } from 'node:child_process'

/**
 * CPU pressure for the reliability suite: `RELIABILITY_CPU_HOGS=N` starts N processes that spin
 * on a core each for the whole run. Each one also ends itself after `RELIABILITY_CPU_HOG_SECONDS`
 * (default 30 minutes), so none can outlive a run that is killed.
 */
export default function startCpuHogs(): () => Promise<void> {
  const count = Number(process.env.RELIABILITY_CPU_HOGS ?? 0)
  const maxSeconds = Number(process.env.RELIABILITY_CPU_HOG_SECONDS ?? 1_800)
  if (!Number.isInteger(count) || count < 0 || count > 16) {
    throw new Error('RELIABILITY_CPU_HOGS must be a whole number from 0 to 16')
  }
  const hogs: ChildProcess[] = []
  for (let index = 0; index < count; index++) {
    const script = `const end = Date.now() + ${maxSeconds * 1000}; while (Date.now() < end) {}`
    hogs.push(spawn(process.execPath, ['-e', script], { stdio: 'ignore' }))
  }
  if (count > 0) console.log(`reliability suite: ${count} CPU-bound processes running beside it`)
  return async () => {
    await Promise.all(
      hogs.map(
        (hog) =>
          new Promise<void>((resolve) => {
            if (hog.exitCode !== null) return resolve()
            hog.once('exit', () => resolve())
            hog.kill('SIGKILL')
          }),
      ),
    )
  }
}
