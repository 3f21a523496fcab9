import type { DsRecord } from '#shared/dns/dnskey.ts'

export interface ZoneKey {
  /** The key's file base name, e.g. `Kexample.test.+013+12345`. */
  readonly file: string
  readonly keyTag: number
  readonly ksk: boolean
  /** The DNSKEY RDATA as `dnssec-keygen` wrote it. */
  readonly dnskey: string
}

/**
 * A signed test zone on a loopback port: BIND itself (`BindZone`, `npm run test:interop`) or
 * BIND's recorded answers served in-process (`RecordedZone`, `npm test`).
 */
export interface TestZone {
  readonly zone: string
  readonly port: number
  newKey(ksk: boolean): ZoneKey
  /** Takes keys another server of the same zone made (a second provider with the same keys). */
  adoptKeys(from: TestZone, keys: readonly ZoneKey[]): void
  /** The DS a parent would hold for a key (SHA-256). */
  dsOf(key: ZoneKey): DsRecord
  /**
   * Publishes the keys, signed, with a CDS for each key of `cds`, and `extra` zone-file lines
   * (e.g. RFC 9615 signals for other zones), signed too.
   */
  sign(published: readonly ZoneKey[], cds: readonly ZoneKey[], extra?: readonly string[]): void
  /** Serves the zone as last signed. */
  serve(): Promise<void>
  close(): Promise<void>
}
