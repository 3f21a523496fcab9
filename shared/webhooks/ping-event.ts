/** The event `POST /webhooks/test` sends: signed and delivered like any other, stored nowhere. */
export const PING_EVENT_TYPE = 'ping'

export interface PingEvent {
  readonly tenant: string
  readonly keyId: string
  readonly url: string
  readonly at: number
}

export const PING_MESSAGE =
  'A test event from domain-gateway. Verify its signature with your webhook secret.'

/** The Standard Webhooks body of a test event. */
export function pingEventBody(event: PingEvent): string {
  return JSON.stringify({
    type: PING_EVENT_TYPE,
    timestamp: new Date(event.at).toISOString(),
    data: { tenant: event.tenant, keyId: event.keyId, url: event.url, message: PING_MESSAGE },
  })
}
