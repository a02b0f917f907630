import type {z} from 'zod'
import {egressApi} from '../../daemons/egress/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Tunnels = z.output<typeof egressApi.tunnels.output>

export default class EgressTunnels extends OsmodaCommand<Tunnels> {
  static override summary = 'List the live egress tunnels with their byte counts.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Tunnels> {
    await this.parse(EgressTunnels)
    const result = await this.client('egress', egressApi).tunnels()
    if (result.tunnels.length) this.table(result.tunnels, ['id', 'host', 'port', 'token_id', 'listener', 'opened_at', 'bytes_up', 'bytes_down'])
    else this.say('no live tunnels')
    return result
  }
}
