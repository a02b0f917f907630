import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Status = z.output<typeof agentdApi.ledgerStatus.output>

export default class LedgerStatus extends OsmodaCommand<Status> {
  static override summary = "The ledger's size, head hash, background verification and latest checkpoint."
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Status> {
    await this.parse(LedgerStatus)
    const status = await this.client('agentd', agentdApi).ledgerStatus()
    const cp = status.latest_checkpoint
    this.say(
      [
        `size        ${status.size}`,
        `head        ${status.head_hash ?? '-'}`,
        `verify      ${status.verify.state} through seq ${status.verify.verified_through_seq}${status.verify.first_bad_seq ? `, first bad seq ${status.verify.first_bad_seq} (${status.verify.bad_count} bad)` : ''}`,
        `checkpoint  ${cp ? `size ${cp.size} at ${cp.ts}, root ${cp.root_hash}, ${cp.cosignature_count} cosignature(s)` : 'none yet'}`,
      ].join('\n'),
    )
    return status
  }
}
