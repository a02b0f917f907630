import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {keydApi} from '../../daemons/keyd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Page = z.output<typeof keydApi.walletReceipts.output>

export default class WalletReceipts extends OsmodaCommand<Page> {
  static override summary = 'Show what keyd decided and signed, newest first.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --wallet wal_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --action send --json']
  static override flags = {
    wallet: Flags.string({description: 'Only this wallet (wal_…)'}),
    action: Flags.option({options: ['create', 'sign', 'send', 'token_transfer', 'contract_call', 'delete'] as const, description: 'Only this action'})(),
    limit: Flags.integer({char: 'n', description: 'How many (1..200, default 20)'}),
    cursor: Flags.string({description: 'next_cursor of the previous page'}),
  }

  async run(): Promise<Page> {
    const {flags} = await this.parse(WalletReceipts)
    const page = await this.client('keyd', keydApi).walletReceipts({wallet_id: flags.wallet, action: flags.action, limit: flags.limit, cursor: flags.cursor})
    this.table(page.receipts, ['id', 'created_at', 'wallet_id', 'action', 'decision', 'value', 'tx_hash'])
    if (page.next_cursor) this.note(`more: --cursor ${page.next_cursor}`)
    return page
  }
}
