import {Args, Flags} from '@oclif/core'
import type {FleetProposal} from '../../daemons/watch/fleet-api.js'
import {watchApi} from '../../daemons/watch/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderFleet} from '../../lib/cli/fleet-view.js'

export default class FleetVote extends OsmodaCommand<FleetProposal> {
  static override summary = "Vote on a peer's fleet proposal on this node (the vote goes to the proposer)."
  static override examples = ['<%= config.bin %> <%= command.id %> fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --approve', '<%= config.bin %> <%= command.id %> fl_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --deny --reason "not during the sale"']
  static override args = {id: Args.string({description: 'Proposal id (fl_…)', required: true})}
  static override flags = {
    approve: Flags.boolean({description: 'Let the change run on this node after the canary', exactlyOne: ['approve', 'deny']}),
    deny: Flags.boolean({description: 'Veto the change', exactlyOne: ['approve', 'deny']}),
    reason: Flags.string({description: 'Why (up to 500 characters, sent to the proposer)'}),
  }

  async run(): Promise<FleetProposal> {
    const {args, flags} = await this.parse(FleetVote)
    const proposal = await this.client('watch', watchApi).fleetVote({id: args.id, approve: flags.approve === true, reason: flags.reason})
    this.say(renderFleet(proposal))
    return proposal
  }
}
