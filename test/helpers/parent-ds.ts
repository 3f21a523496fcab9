import { queryServer } from '#shared/dns/dns-client.ts'
import type { DsRecord } from '#shared/dns/dnskey.ts'
import { dsOf } from '#shared/dns/dnssec-records.ts'

/** The DS set the emulator's parent zone (on loopback `port`) serves for a zone now. */
export async function parentDs(port: number, zone: string): Promise<DsRecord[]> {
  const answer = await queryServer({ host: '127.0.0.1', port }, zone, 'DS')
  return answer.records.map(dsOf)
}
