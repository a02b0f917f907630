import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {keydApi} from '../../daemons/keyd/api.js'
import {CHAINS} from '../../daemons/keyd/policy.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Result = z.output<typeof keydApi.walletList.output>

export default class WalletList extends OsmodaCommand<Result> {
  static override summary = 'List the wallets keyd holds.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --chain ethereum --json']
  static override flags = {chain: Flags.option({options: CHAINS, description: 'Only this chain'})()}

  async run(): Promise<Result> {
    const {flags} = await this.parse(WalletList)
    const result = await this.client('keyd', keydApi).walletList({chain: flags.chain})
    this.table(result.wallets, ['id', 'chain', 'address', 'label', 'created_at'])
    return result
  }
}
