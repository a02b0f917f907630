import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Page = z.output<typeof agentdApi.incidentList.output>

export default class IncidentList extends OsmodaCommand<Page> {
  static override summary = 'List incidents, newest first (open ones by default).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --status all --limit 20 --json']
  static override flags = {
    status: Flags.option({options: ['open', 'resolved', 'all'] as const, description: 'Which incidents (default open)'})(),
    limit: Flags.integer({char: 'n', description: 'How many (1..200, default 50)'}),
    cursor: Flags.string({description: 'next_cursor of the previous page'}),
  }

  async run(): Promise<Page> {
    const {flags} = await this.parse(IncidentList)
    const page = await this.client('agentd', agentdApi).incidentList({status: flags.status, limit: flags.limit, cursor: flags.cursor})
    this.table(page.incidents, ['id', 'severity', 'status', 'step_count', 'created_at', 'name'])
    if (page.next_cursor) this.note(`more: --cursor ${page.next_cursor}`)
    return page
  }
}
