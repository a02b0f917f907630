import {Args, Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, type Incident} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderIncident} from '../../lib/cli/incident-view.js'

export default class IncidentStep extends OsmodaCommand<z.output<typeof Incident>> {
  static override summary = 'Record the next numbered step of an open incident.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> inc_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --action "restarted nginx" --result "502s stopped" --receipt rcpt_812',
    '<%= config.bin %> <%= command.id %> inc_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --action "checked upstream" --result "api pod OOM" --resolve',
  ]
  static override args = {id: Args.string({description: 'Incident id (inc_…)', required: true})}
  static override flags = {
    action: Flags.string({description: 'What was done or checked (1..2000 characters)', required: true}),
    result: Flags.string({description: 'What came of it (at most 8000 characters)', default: ''}),
    receipt: Flags.string({description: 'Ledger receipt proving the action, rcpt_<seq>'}),
    resolve: Flags.boolean({description: 'Resolve the incident with this step'}),
  }

  async run(): Promise<z.output<typeof Incident>> {
    const {args, flags} = await this.parse(IncidentStep)
    const incident = await this.client('agentd', agentdApi).incidentStep({id: args.id, action: flags.action, result: flags.result, receipt_id: flags.receipt, resolve: flags.resolve})
    this.say(renderIncident(incident))
    return incident
  }
}
