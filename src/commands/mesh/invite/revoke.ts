import {Args} from '@oclif/core'
import {meshApi} from '../../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

export default class MeshInviteRevoke extends OsmodaCommand<{revoked: string}> {
  static override summary = 'Revoke an unused invite so its code no longer pairs.'
  static override examples = ['<%= config.bin %> <%= command.id %> inv_01JDX8Q4S1T6V0W7Y2Z3A4B5C6']
  static override args = {id: Args.string({description: 'Invite id (inv_…)', required: true})}

  async run(): Promise<{revoked: string}> {
    const {args} = await this.parse(MeshInviteRevoke)
    const result = await this.client('mesh', meshApi).inviteRevoke({id: args.id})
    this.say(`revoked ${result.revoked}`)
    return result
  }
}
