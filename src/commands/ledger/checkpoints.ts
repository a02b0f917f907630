import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Page = z.output<typeof agentdApi.ledgerCheckpoints.output>

export default class LedgerCheckpoints extends OsmodaCommand<Page> {
  static override summary = 'List the signed ledger checkpoints, newest first.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --limit 5 --json']
  static override flags = {
    limit: Flags.integer({char: 'n', description: 'How many (1..1000, default 50)'}),
    cursor: Flags.string({description: 'next_cursor of the previous page'}),
  }

  async run(): Promise<Page> {
    const {flags} = await this.parse(LedgerCheckpoints)
    const page = await this.client('agentd', agentdApi).ledgerCheckpoints({limit: flags.limit, cursor: flags.cursor})
    this.table(page.checkpoints, ['size', 'ts', 'root_hash', 'cosignature_count'])
    if (page.next_cursor) this.note(`more: --cursor ${page.next_cursor}`)
    return page
  }
}
