import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import type {AgentCardBundle} from '../../daemons/agentd/agent-card/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {renderAgentCard} from '../../lib/cli/agent-card.js'

export default class AgentCardShow extends OsmodaCommand<z.output<typeof AgentCardBundle>> {
  static override summary = 'Show the signed A2A agent card and the ERC-8004 registration of this server.'
  static override description =
    'Prints the card stored by `osmoda agent-card generate`, or, before any generate, the card built from the agentCard.* config ' +
    'defaults and the daemons running now. --json gives `{card, registration}` exactly as agentd serves it.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<z.output<typeof AgentCardBundle>> {
    await this.parse(AgentCardShow)
    const bundle = await this.client('agentd', agentdApi).agentCardGet()
    this.say(renderAgentCard(bundle))
    return bundle
  }
}
