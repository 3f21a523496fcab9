/**
 * A domain's events in the order they were made: each change, drift and DNSSEC event carries
 * `data.sequence`, a number that only grows per domain. Deliveries run concurrently and retries
 * reorder them, so a receiver orders a domain's events by it (gaps are normal: a retried create
 * takes a number and is then refused as a duplicate).
 */
export interface EventSequence {
  /** The domain's next number (1, 2, …), distinct for every caller. */
  next(domain: string): Promise<number>
}
