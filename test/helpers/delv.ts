import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { DnsServer } from '#shared/dns/dns-client.ts'
import type { DsRecord } from '#shared/dns/dnskey.ts'

const run = promisify(execFile)

/**
 * BIND's own validator as a second opinion: `delv` asks `server` for the zone's DNSKEY RRset and
 * validates it with the parent's DS set as its only trust anchors (`static-ds`, `+root=<zone>`).
 * Resolves to delv's verdict line and whether it is "fully validated".
 */
export async function delvValidates(
  server: DnsServer,
  zone: string,
  ds: readonly DsRecord[],
): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dg-delv-'))
  try {
    const anchors = join(dir, 'anchors.conf')
    writeFileSync(
      anchors,
      `trust-anchors {\n${ds
        .map(
          (record) =>
            `  "${zone}." static-ds ${record.keyTag} ${record.algorithm} ${record.digestType} "${record.digest.toUpperCase()}";`,
        )
        .join('\n')}\n};\n`,
    )
    const { stdout, stderr } = await run(
      'delv',
      [
        `@${server.host}`,
        '-p',
        String(server.port),
        '-a',
        anchors,
        `+root=${zone}`,
        zone,
        'DNSKEY',
      ],
      { timeout: 10_000 },
    ).catch((error: { stdout?: string; stderr?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }))
    const output = `${stdout}${stderr}`
    return { ok: /^; fully validated$/m.test(output), output: output.slice(0, 2000) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
