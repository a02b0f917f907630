import {Args, Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, type Incident} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderIncident} from '../../lib/cli/incident-view.js'

export default class IncidentResolve extends OsmodaCommand<z.output<typeof Incident>> {
  static override summary = 'Resolve an incident: a last step with resolve, noting how it ended.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> inc_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --note "fixed by rolling back generation 42"',
  ]
  static override args = {id: Args.string({description: 'Incident id (inc_…)', required: true})}
  static override flags = {
    note: Flags.string({description: 'How it was resolved (at most 8000 characters)', default: ''}),
    receipt: Flags.string({description: 'Ledger receipt proving the fix, rcpt_<seq>'}),
  }

  async run(): Promise<z.output<typeof Incident>> {
    const {args, flags} = await this.parse(IncidentResolve)
    const incident = await this.client('agentd', agentdApi).incidentStep({id: args.id, action: 'resolved', result: flags.note, receipt_id: flags.receipt, resolve: true})
    this.say(renderIncident(incident))
    return incident
  }
}
