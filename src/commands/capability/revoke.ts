import {Args} from '@oclif/core'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

export default class CapabilityRevoke extends OsmodaCommand<{token_id: string; revoked: true}> {
  static override summary = 'Revoke a capability token; egress and the sandbox refuse it within about 10 s.'
  static override examples = ['<%= config.bin %> <%= command.id %> cap_01JDX8Q4S1T6V0W7Y2Z3A4B5C6']
  static override args = {token_id: Args.string({description: 'Token id (cap_…)', required: true})}

  async run(): Promise<{token_id: string; revoked: true}> {
    const {args} = await this.parse(CapabilityRevoke)
    const result = await this.client('agentd', agentdApi).capabilityRevoke({token_id: args.token_id})
    this.say(`revoked ${args.token_id}`)
    return {token_id: args.token_id, ...result}
  }
}
