import {Args} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import type {ApprovalDetail} from '../../daemons/agentd/approvals/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderApproval} from '../../lib/cli/approval-view.js'

export default class ApprovalShow extends OsmodaCommand<z.output<typeof ApprovalDetail>> {
  static override summary = 'Show one approval with the exact request it would allow.'
  static override examples = ['<%= config.bin %> <%= command.id %> apr_01JDX8Q4S1T6V0W7Y2Z3A4B5C6']
  static override args = {id: Args.string({description: 'Approval id (apr_…)', required: true})}

  async run(): Promise<z.output<typeof ApprovalDetail>> {
    const {args} = await this.parse(ApprovalShow)
    const approval = await this.client('agentd', agentdApi).approvalGet({id: args.id})
    this.say(renderApproval(approval))
    return approval
  }
}
