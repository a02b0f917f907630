import {Args, Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import type {Approval} from '../../daemons/agentd/approvals/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderApproval} from '../../lib/cli/approval-view.js'

export default class ApprovalDeny extends OsmodaCommand<z.output<typeof Approval>> {
  static override summary = 'Deny a pending request: the agent cannot use it.'
  static override description = 'Run `osmoda approval show <id>` first to see the exact request. Only the operator token can decide; the decision is ledgered with your name.'
  static override examples = ['<%= config.bin %> <%= command.id %> apr_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --note "use a config reload instead"']
  static override args = {id: Args.string({description: 'Approval id (apr_…)', required: true})}
  static override flags = {note: Flags.string({description: 'Why (at most 500 characters, recorded in the ledger)'})}

  async run(): Promise<z.output<typeof Approval>> {
    const {args, flags} = await this.parse(ApprovalDeny)
    const approval = await this.client('agentd', agentdApi).approvalDeny({id: args.id, note: flags.note})
    this.say(renderApproval(approval))
    return approval
  }
}
