import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Revoked = z.output<typeof agentdApi.capabilityRevoked.output>

export default class CapabilityRevoked extends OsmodaCommand<Revoked> {
  static override summary = 'List revoked capability tokens that have not expired yet.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Revoked> {
    await this.parse(CapabilityRevoked)
    const list = await this.client('agentd', agentdApi).capabilityRevoked()
    if (list.revoked.length) this.table(list.revoked, ['token_id', 'expires_at'])
    else this.say('no revoked tokens in force')
    return list
  }
}
