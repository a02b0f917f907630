import {Args, Flags} from '@oclif/core'
import {meshApi} from '../../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

type Accepted = {peer_id: string; state: 'connecting'}

export default class MeshInviteAccept extends OsmodaCommand<Accepted> {
  static override summary = 'Pair with the server that created an invite code.'
  static override examples = ['<%= config.bin %> <%= command.id %> osmoda-invite1.eyJ2Ijox….Q2x… --label web-1']
  static override args = {code: Args.string({description: 'The osmoda-invite1.… code', required: true})}
  static override flags = {label: Flags.string({description: 'Name for the inviting peer'})}

  async run(): Promise<Accepted> {
    const {args, flags} = await this.parse(MeshInviteAccept)
    const result = await this.client('mesh', meshApi).inviteAccept({invite_code: args.code, label: flags.label})
    this.say(`peer ${result.peer_id} ${result.state} (see \`osmoda mesh peer show ${result.peer_id}\`)`)
    return result
  }
}
