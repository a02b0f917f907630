import type {z} from 'zod'
import {gatewayApi} from '../../daemons/gateway/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Agents = z.output<typeof gatewayApi.agentsList.output>

export default class GatewayAgents extends OsmodaCommand<Agents> {
  static override summary = 'List agents with their liveness: wedged, responsive, heartbeats, restart status.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Agents> {
    await this.parse(GatewayAgents)
    const listed = await this.client('gateway', gatewayApi).agentsList()
    this.table(
      listed.agents.map((a) => ({...a, active: a.active_request_ids.length})),
      ['id', 'enabled', 'runtime', 'model', 'has_credential', 'agent_wedged', 'chat_responsive', 'active', 'auto_restart_status', 'last_frame_at'],
    )
    return listed
  }
}
