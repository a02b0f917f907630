import {Flags} from '@oclif/core'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

export default class LedgerVerify extends OsmodaCommand<{state: 'running'}> {
  static override summary = 'Ask agentd to re-verify a range of the ledger in the background.'
  static override description = 'The result lands in the ledger as `ledger.verified` (see `osmoda events --type ledger.verified`). For an offline check use `osmoda verify-ledger`.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --from 1000 --to 2000']
  static override flags = {
    from: Flags.integer({description: 'First seq (default 1)', min: 1}),
    to: Flags.integer({description: 'Last seq (default: the head)', min: 1}),
  }

  async run(): Promise<{state: 'running'}> {
    const {flags} = await this.parse(LedgerVerify)
    const result = await this.client('agentd', agentdApi).ledgerVerify({from: flags.from, to: flags.to})
    this.say('verification started; its result will be recorded as ledger.verified')
    return result
  }
}
