import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi, type Incident} from '../../daemons/agentd/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderIncident} from '../../lib/cli/incident-view.js'

export default class IncidentCreate extends OsmodaCommand<z.output<typeof Incident>> {
  static override summary = 'Open an incident to work a problem step by step.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name "nginx returns 502" --severity high',
    '<%= config.bin %> <%= command.id %> --name "disk filling up" --summary "/var at 93%" --json',
  ]
  static override flags = {
    name: Flags.string({description: 'Short title of the problem (1..200 characters)', required: true}),
    severity: Flags.option({options: ['low', 'medium', 'high', 'critical'] as const, description: 'How bad it is (default medium)'})(),
    summary: Flags.string({description: 'What was observed and its impact (at most 2000 characters)'}),
  }

  async run(): Promise<z.output<typeof Incident>> {
    const {flags} = await this.parse(IncidentCreate)
    const incident = await this.client('agentd', agentdApi).incidentCreate({name: flags.name, severity: flags.severity, summary: flags.summary})
    this.say(renderIncident(incident))
    return incident
  }
}
