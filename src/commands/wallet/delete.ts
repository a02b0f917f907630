import {Args} from '@oclif/core'
import {keydApi} from '../../daemons/keyd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

export default class WalletDelete extends OsmodaCommand<{deleted: string}> {
  static override summary = 'Delete a wallet and destroy its key (irreversible).'
  static override examples = ['<%= config.bin %> <%= command.id %> wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6']
  static override args = {id: Args.string({description: 'Wallet id (wal_…)', required: true})}

  async run(): Promise<{deleted: string}> {
    const {args} = await this.parse(WalletDelete)
    const result = await this.client('keyd', keydApi).walletDelete({wallet_id: args.id})
    this.say(`deleted ${result.deleted}; its key is destroyed`)
    return result
  }
}
