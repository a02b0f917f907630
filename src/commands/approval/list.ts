import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Page = z.output<typeof agentdApi.approvalList.output>

export default class ApprovalList extends OsmodaCommand<Page> {
  static override summary = 'List approvals: what the agent is waiting for (--status pending) or the full audit trail.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --status all --limit 200 --json']
  static override flags = {
    status: Flags.option({options: ['pending', 'approved', 'denied', 'expired', 'consumed', 'all'] as const, description: 'Which approvals (default pending)', default: 'pending'})(),
    limit: Flags.integer({char: 'n', description: 'How many (1..1000, default 100)'}),
    cursor: Flags.string({description: 'next_cursor of the previous page'}),
  }

  async run(): Promise<Page> {
    const {flags} = await this.parse(ApprovalList)
    const page = await this.client('agentd', agentdApi).approvalList({status: flags.status, limit: flags.limit, cursor: flags.cursor})
    if (!page.approvals.length) this.say(flags.status === 'pending' ? 'nothing is waiting for approval' : 'no approvals')
    else this.table(page.approvals, ['id', 'status', 'operation', 'actor', 'expires_at', 'summary'])
    if (page.next_cursor) this.note(`more: --cursor ${page.next_cursor}`)
    return page
  }
}
