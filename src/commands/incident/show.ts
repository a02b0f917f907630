import {Args} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, type Incident} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderIncident} from '../../lib/cli/incident-view.js'

export default class IncidentShow extends OsmodaCommand<z.output<typeof Incident>> {
  static override summary = 'Show an incident with all its steps.'
  static override examples = ['<%= config.bin %> <%= command.id %> inc_01JDX8Q4S1T6V0W7Y2Z3A4B5C6', '<%= config.bin %> <%= command.id %> inc_01JDX8Q4S1T6V0W7Y2Z3A4B5C6 --json']
  static override args = {id: Args.string({description: 'Incident id (inc_…)', required: true})}

  async run(): Promise<z.output<typeof Incident>> {
    const {args} = await this.parse(IncidentShow)
    const incident = await this.client('agentd', agentdApi).incidentGet({id: args.id})
    this.say(renderIncident(incident))
    return incident
  }
}
