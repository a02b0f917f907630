import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Discovery = z.output<typeof agentdApi.systemDiscover.output>

export default class SystemDiscover extends OsmodaCommand<Discovery> {
  static override summary = 'Discover services listening on this host and what they are.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Discovery> {
    await this.parse(SystemDiscover)
    const found = await this.client('agentd', agentdApi).systemDiscover()
    this.table(found.found, ['name', 'pid', 'protocol', 'port', 'detected_as', 'systemd_unit'])
    this.say(`${found.total_listening_ports} listening port(s); systemd ${found.systemd}`)
    return found
  }
}
