import type { DomainApiClient } from '../aliyun/domain-api-client.ts'
import type { SubmitTaskResult } from '../aliyun/responses.ts'
import type { TaskCommand } from './task.ts'

/** The part of the Domain API client that submits tasks. */
export type TaskSubmitter = Pick<
  DomainApiClient,
  | 'addDsRecord'
  | 'modifyDsRecord'
  | 'deleteDsRecord'
  | 'syncDsRecord'
  | 'syncDnsHost'
  | 'modifyDomainDnsBatch'
>

/** Sends one command as its `Save*` action; no attempt is signed or sent after `sendBy`. */
export function submitToUpstream(
  client: TaskSubmitter,
  command: TaskCommand,
  sendBy: number,
): Promise<SubmitTaskResult> {
  switch (command.action) {
    case 'ds.add':
      return client.addDsRecord({ domainName: command.domain, ...command.record, sendBy })
    case 'ds.modify':
      return client.modifyDsRecord({ domainName: command.domain, ...command.record, sendBy })
    case 'ds.delete':
      return client.deleteDsRecord({ domainName: command.domain, keyTag: command.keyTag, sendBy })
    case 'ds.sync':
      return client.syncDsRecord({ domainName: command.domain, sendBy })
    case 'dnshost.sync':
      return client.syncDnsHost({ instanceId: command.instanceId, sendBy })
    case 'dns.batch':
      return client.modifyDomainDnsBatch({
        domainNames: command.domains,
        aliyunDns: command.aliyunDns,
        nameServers: command.nameServers,
        sendBy,
      })
  }
}
