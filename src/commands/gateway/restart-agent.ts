import {Args} from '@oclif/core'
import type {z} from 'zod'
import {gatewayApi} from '../../daemons/gateway/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'

type Accepted = z.output<typeof gatewayApi.agentRestart.output>

export default class GatewayRestartAgent extends OsmodaCommand<Accepted> {
  static override summary = "Restart an agent's runtime: stop its requests, probe the driver; follow the receipt for the outcome."
  static override examples = ['<%= config.bin %> <%= command.id %> osmoda', '<%= config.bin %> <%= command.id %> mobile --json']
  static override args = {id: Args.string({description: 'Agent id', required: true})}

  async run(): Promise<Accepted> {
    const {args} = await this.parse(GatewayRestartAgent)
    const accepted = await this.client('gateway', gatewayApi).agentRestart({agent_id: args.id})
    this.say(`restart of ${args.id} accepted: ${accepted.request_id}`)
    return accepted
  }
}
