/** The `byEvent` index's partition of a tenant. */
export const eventPartition = (tenant: string): string => `EVENTS#${tenant}`

/**
 * The event index attributes of an item that is an event: its tenant's partition, sorted by when
 * it happened, then by webhook id (so two events of one millisecond keep one order).
 */
export function eventIndexKeys(
  tenant: string,
  occurredAt: string,
  webhookId: string,
): { evpk: string; evsk: string } {
  return { evpk: eventPartition(tenant), evsk: `${occurredAt}#${webhookId}` }
}
