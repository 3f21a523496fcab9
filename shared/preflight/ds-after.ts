import type { DsRecord } from '../dns/dnskey.ts'
import { dsKey } from '../dns/dnssec-records.ts'
import type { TaskCommand } from '../tasks/task.ts'

/**
 * The DS set the registry holds after a DS command, from the set it holds now: an add puts the
 * record beside the others, a modify replaces the records with the path's key tag, a delete
 * removes every record with the key tag (the registry deletes by key tag). Undefined for a
 * command that does not change the DS set.
 */
export function dsAfter(
  current: readonly DsRecord[],
  command: TaskCommand,
): readonly DsRecord[] | undefined {
  const normal = (ds: DsRecord) => ({ ...ds, digest: ds.digest.toLowerCase() })
  const now = current.map(normal)
  switch (command.action) {
    case 'ds.add': {
      const added = normal(command.record)
      return now.some((ds) => dsKey(ds) === dsKey(added)) ? now : [...now, added]
    }
    case 'ds.modify':
      return [...now.filter((ds) => ds.keyTag !== command.record.keyTag), normal(command.record)]
    case 'ds.delete':
      return now.filter((ds) => ds.keyTag !== command.keyTag)
    default:
      return undefined
  }
}
