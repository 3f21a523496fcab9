/** What an event is about: a task's or change's id (a publication event's task), else its domain, else (a ping) its tenant. */
export function eventSubject(data: Record<string, unknown> | undefined): string {
  for (const field of ['id', 'taskId', 'changeId', 'domain', 'tenant']) {
    const value = data?.[field]
    if (typeof value === 'string' && value !== '') return value
  }
  return '(no subject)'
}

/** Why a failed or stopped event says it failed, if it says. */
export function eventReason(data: Record<string, unknown> | undefined): string | undefined {
  const error = data?.error as { code?: string; message?: string } | string | undefined
  if (typeof error === 'string') return error
  if (error?.message) return error.code ? `${error.code}: ${error.message}` : error.message
  return typeof data?.reason === 'string' ? data.reason : undefined
}

/** One line: type, subject, status and the failure's reason where there is one. */
export function describeEvent(
  payload: { type?: string; data?: Record<string, unknown> } | undefined,
): string {
  const data = payload?.data
  const status = typeof data?.status === 'string' ? ` (${data.status})` : ''
  const sequence = typeof data?.sequence === 'number' ? ` #${data.sequence}` : ''
  const reason = eventReason(data)
  return `${payload?.type ?? '(no type)'} for ${eventSubject(data)}${sequence}${status}${reason ? `: ${reason}` : ''}`
}
