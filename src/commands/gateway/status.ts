import type {z} from 'zod'
import {gatewayApi} from '../../daemons/gateway/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Health = z.output<typeof gatewayApi.health.output>

export default class GatewayStatus extends OsmodaCommand<Health> {
  static override summary = 'Show the gateway: drivers, agents, credentials, sessions and active requests.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Health> {
    await this.parse(GatewayStatus)
    const health = await this.client('gateway', gatewayApi).health()
    this.say(`gateway ${health.status} (v${health.version}, pid ${health.pid}, up ${health.uptime_secs} s)${health.listen ? ` on ${health.listen.address}:${health.listen.port}` : ''}`)
    for (const problem of health.problems ?? []) this.say(`problem: ${problem}`)
    this.say(`credentials ${health.credentials_count ?? 'locked'} · sessions ${health.sessions ?? 0} · active requests ${health.active_requests ?? 0}`)
    if (health.drivers?.length) this.table(health.drivers, ['name', 'available', 'version'])
    if (health.agents?.length) this.table(health.agents, ['id', 'runtime', 'model', 'enabled', 'agent_wedged'])
    return health
  }
}
