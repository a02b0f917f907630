import {Flags} from '@oclif/core'
import {meshApi} from '../../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

type Created = {invite_id: string; invite_code: string; expires_at: string}

export default class MeshInviteCreate extends OsmodaCommand<Created> {
  static override summary = 'Create a one-time invite code another osmoda server accepts to pair with this one.'
  static override description = 'The code is a secret until used: send it over a channel you trust. It works once and expires after --ttl seconds.'
  static override examples = ['<%= config.bin %> <%= command.id %> --label web-2', '<%= config.bin %> <%= command.id %> --ttl 600 --endpoint 203.0.113.7:18800 --json']
  static override flags = {
    ttl: Flags.integer({description: 'Seconds the code stays valid (60..86400)', default: 3600, min: 60, max: 86_400}),
    endpoint: Flags.string({description: 'host:port the other server dials (default: publicEndpoint or the listen address)'}),
    label: Flags.string({description: 'Name for the peer that joins with this code'}),
  }

  async run(): Promise<Created> {
    const {flags} = await this.parse(MeshInviteCreate)
    const created = await this.client('mesh', meshApi).inviteCreate({ttl_secs: flags.ttl, endpoint: flags.endpoint, label: flags.label})
    this.note(`invite ${created.invite_id}, valid until ${created.expires_at}; on the other server run: osmoda mesh invite accept <code>`)
    this.say(created.invite_code)
    return created
  }
}
