import {Args, Flags} from '@oclif/core'
import type {FleetProposal} from '../../daemons/watch/fleet-api.js'
import {watchApi} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderFleet} from '../../lib/cli/fleet-view.js'

export default class FleetRollback extends OsmodaCommand<FleetProposal> {
  static override summary = 'Roll back an executing fleet deploy (every node still in probation rolls back).'
  static override examples = ['<%= config.bin %> <%= command.id %> fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --reason "p99 latency doubled"']
  static override args = {id: Args.string({description: 'Proposal id (fl_…)', required: true})}
  static override flags = {reason: Flags.string({description: 'Why (up to 500 characters)'})}

  async run(): Promise<FleetProposal> {
    const {args, flags} = await this.parse(FleetRollback)
    const proposal = await this.client('watch', watchApi).fleetRollback({id: args.id, reason: flags.reason})
    this.say(renderFleet(proposal))
    return proposal
  }
}
