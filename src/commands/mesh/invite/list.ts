import {Flags} from '@oclif/core'
import {meshApi, type Invite} from '../../../daemons/mesh/api.js'
import {OsmodaCommand} from '../../../lib/cli/command.js'

export default class MeshInviteList extends OsmodaCommand<{invites: Invite[]}> {
  static override summary = 'List invites this server created (never their secrets).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --status all --json']
  static override flags = {status: Flags.option({options: ['pending', 'used', 'expired', 'all'] as const, default: 'pending' as const, description: 'Which invites'})()}

  async run(): Promise<{invites: Invite[]}> {
    const {flags} = await this.parse(MeshInviteList)
    const result = await this.client('mesh', meshApi).invites({status: flags.status})
    this.table(result.invites.map((i) => ({...i, label: i.label ?? '', used_by: i.used_by ?? ''})), ['id', 'status', 'label', 'expires_at', 'used_by'])
    return result
  }
}
