import type { ChildProcess } from 'node:child_process'
import { type DnsAnswer, queryServer } from '#shared/dns/dns-client.ts'

/**
 * Waits until an authoritative server just started on loopback answers for its zone (and, with
 * `ready`, answers as wanted), failing with its output if it exits or the time runs out.
 */
export async function waitForServer(options: {
  readonly child: ChildProcess
  readonly name: string
  readonly port: number
  readonly zone: string
  readonly output: () => string
  readonly timeoutMs: number
  readonly ready?: (answer: DnsAnswer) => boolean
}): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    if (options.child.exitCode !== null) {
      throw new Error(`${options.name} exited: ${options.output().slice(-2000)}`)
    }
    let failure = 'no answer yet'
    try {
      const answer = await queryServer(
        { host: '127.0.0.1', port: options.port },
        options.zone,
        'DNSKEY',
        { timeoutMs: 300 },
      )
      if (!options.ready || options.ready(answer)) return
      failure = 'not ready'
    } catch (error) {
      failure = (error as Error).message
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${options.name} did not answer (${failure}): ${options.output().slice(-2000)}`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
