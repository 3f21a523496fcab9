/** A part of `npm start` could not start; the message is one sentence for the user. */
export class LocalStartError extends Error {
  override name = 'LocalStartError'
}

/**
 * Starts a listener of `npm start` on its port. A default port that is busy moves to a free one
 * (and says so); a port the user chose that is busy stops the start with one sentence naming the
 * part and the variable.
 */
export async function listenOnPort<T>(
  part: { readonly name: string; readonly variable: string; readonly chosen: boolean },
  port: number,
  start: (port: number) => Promise<T>,
  warn: (line: string) => void = (line) => console.warn(line),
): Promise<T> {
  try {
    return await start(port)
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error
    if (part.chosen) {
      throw new LocalStartError(
        `The ${part.name} cannot listen on port ${port} (${part.variable}): another process uses it. Set ${part.variable} to a free port, or 0 for any.`,
      )
    }
    warn(
      `${part.name}: port ${port} is in use; listening on a free port instead (${part.variable} chooses one).`,
    )
    return start(0)
  }
}
