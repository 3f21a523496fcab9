import { crc32, deflateRawSync } from 'node:zlib'

export interface ZipEntry {
  readonly name: string
  readonly data: Buffer
}

/** DOS date and time of 1980-01-01 00:00, so the same input always gives the same zip. */
const DOS_TIME = 0
const DOS_DATE = (0 << 9) | (1 << 5) | 1

type Field = readonly [bytes: 2 | 4, value: number]
const u16 = (value: number): Field => [2, value]
const u32 = (value: number): Field => [4, value]

/** A zip record: its fields one after another, little-endian. */
function record(fields: readonly Field[]): Buffer {
  const buffer = Buffer.alloc(fields.reduce((length, [bytes]) => length + bytes, 0))
  let at = 0
  for (const [bytes, value] of fields) {
    if (bytes === 2) buffer.writeUInt16LE(value, at)
    else buffer.writeUInt32LE(value, at)
    at += bytes
  }
  return buffer
}

/**
 * Writes a zip archive (deflate, no zip64): enough for Lambda deployment packages, and
 * byte-for-byte reproducible.
 */
export function createZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8')
    const compressed = deflateRawSync(entry.data, { level: 9 })
    // From "version needed" to "extra field length": the same in both headers.
    const shared = [
      u16(20), // version needed: 2.0
      u16(0x0800), // flags: UTF-8 names
      u16(8), // deflate
      u16(DOS_TIME),
      u16(DOS_DATE),
      u32(crc32(entry.data)),
      u32(compressed.length),
      u32(entry.data.length),
      u16(name.length),
      u16(0),
    ]
    const local = record([u32(0x04034b50), ...shared])
    locals.push(local, name, compressed)
    const central = record([
      u32(0x02014b50),
      u16(0x031e), // made by: Unix, spec 3.0
      ...shared,
      u16(0), // comment length
      u16(0), // disk
      u16(0), // internal attributes
      u32((0o100644 << 16) >>> 0), // -rw-r--r--
      u32(offset),
    ])
    centrals.push(central, name)
    offset += local.length + name.length + compressed.length
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0)
  const end = record([
    u32(0x06054b50),
    u16(0), // this disk
    u16(0), // the central directory's disk
    u16(entries.length),
    u16(entries.length),
    u32(centralSize),
    u32(offset),
    u16(0), // comment length
  ])
  return Buffer.concat([...locals, ...centrals, end])
}
