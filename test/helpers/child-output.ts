import { type ChildProcess, spawn } from 'node:child_process'

/** A child process started with piped output, and what it has written so far. */
export function spawnCollecting(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const child = spawn(command, [...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  return { child, stdout: () => stdout, stderr: () => stderr }
}
