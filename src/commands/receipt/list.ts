import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Page = z.output<typeof agentdApi.receiptList.output>

export default class ReceiptList extends OsmodaCommand<Page> {
  static override summary = 'List receipts of the changes made on this host, newest first.'
  static override description = `A receipt is a view of one mutation event of the ledger: its seq and hash prove it against a
signed checkpoint (osmoda ledger proof inclusion --seq N --size S), and reversible ones carry the command that undoes them.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --since 24h',
    '<%= config.bin %> <%= command.id %> --type "switch.*" --limit 10 --json',
    '<%= config.bin %> <%= command.id %> --actor agent:ops --since 2026-11-25T00:00:00Z',
  ]
  static override flags = {
    type: Flags.string({char: 't', description: 'Exact type (file.written), prefix (switch.*) or bare domain (app)'}),
    actor: Flags.string({description: 'Only receipts by this actor (agent:<id>, operator:<user>, a daemon)'}),
    since: Flags.string({description: 'Duration back from now (30m, 24h, 7d) or an RFC 3339 instant'}),
    limit: Flags.integer({char: 'n', description: 'How many (1..500, default 50)'}),
    cursor: Flags.string({description: 'next_cursor of the previous page'}),
  }

  async run(): Promise<Page> {
    const {flags} = await this.parse(ReceiptList)
    const page = await this.client('agentd', agentdApi).receiptList({type: flags.type, actor: flags.actor, since: flags.since, limit: flags.limit, cursor: flags.cursor})
    this.table(page.receipts, ['id', 'timestamp', 'actor', 'summary', 'undo_action'])
    if (page.next_cursor) this.note(`more: --cursor ${page.next_cursor}`)
    return page
  }
}
