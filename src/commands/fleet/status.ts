import {Args} from '@oclif/core'
import type {FleetProposal} from '../../daemons/watch/fleet-api.js'
import {watchApi} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderFleet} from '../../lib/cli/fleet-view.js'

export default class FleetStatus extends OsmodaCommand<FleetProposal> {
  static override summary = 'Show one fleet proposal: phase, quorum and every participant.'
  static override examples = ['<%= config.bin %> <%= command.id %> fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6']
  static override args = {id: Args.string({description: 'Proposal id (fl_…)', required: true})}

  async run(): Promise<FleetProposal> {
    const {args} = await this.parse(FleetStatus)
    const proposal = await this.client('watch', watchApi).fleetGet({id: args.id})
    this.say(renderFleet(proposal))
    return proposal
  }
}
