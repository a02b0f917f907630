import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {keydApi, type Wallet} from '../../daemons/keyd/api.js'
import {CHAINS} from '../../daemons/keyd/policy.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

export default class WalletCreate extends OsmodaCommand<z.output<typeof Wallet>> {
  static override summary = 'Create a wallet in keyd (the key never leaves it).'
  static override examples = ['<%= config.bin %> <%= command.id %> --chain ethereum --label treasury', '<%= config.bin %> <%= command.id %> --chain solana --label ops --json']
  static override flags = {
    chain: Flags.option({options: CHAINS, required: true, description: 'ethereum or solana'})(),
    label: Flags.string({required: true, description: 'Unique label (1..64 characters)'}),
  }

  async run(): Promise<z.output<typeof Wallet>> {
    const {flags} = await this.parse(WalletCreate)
    const wallet = await this.client('keyd', keydApi).walletCreate({chain: flags.chain, label: flags.label})
    this.table([wallet], ['id', 'chain', 'address', 'label'])
    return wallet
  }
}
