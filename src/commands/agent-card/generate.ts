import {Flags} from '@oclif/core'
import type {z} from 'zod'
import {agentdApi} from '../../daemons/agentd/api.js'
import type {AgentCardBundle} from '../../daemons/agentd/agent-card/api.js'
import {OsmodaCommand} from '../../lib/cli/command.js'
import {parseServiceFlag, renderAgentCard} from '../../lib/cli/agent-card.js'

export default class AgentCardGenerate extends OsmodaCommand<z.output<typeof AgentCardBundle>> {
  static override summary = 'Build, sign and store a new agent card and ERC-8004 registration.'
  static override description =
    'Writes <state>/agentd/agent-card.json and ledgers agent_card.generated. Skills always reflect the daemons running now. ' +
    'Without --service the registration advertises the defaults (mcp, a2a, and safeswitch/wallet when watch/keyd run); ' +
    'each --service replaces that list.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --name "web-01 ops" --description "Runs the shop backend"',
    '<%= config.bin %> <%= command.id %> --service "mcp=stdio:osmoda mcp@2025-11-25" --service "web=https://ops.example.com@1" --json',
  ]
  static override flags = {
    name: Flags.string({description: 'Agent name on the card (1..100 characters; default agentCard.name)'}),
    description: Flags.string({description: 'What this agent does (at most 1000 characters; default agentCard.description)'}),
    service: Flags.string({description: 'An ERC-8004 service as name=endpoint@version (repeatable, at most 16; replaces the defaults)', multiple: true}),
  }

  async run(): Promise<z.output<typeof AgentCardBundle>> {
    const {flags} = await this.parse(AgentCardGenerate)
    const services = flags.service?.map(parseServiceFlag)
    const bundle = await this.client('agentd', agentdApi).agentCardGenerate({name: flags.name, description: flags.description, services})
    this.say(renderAgentCard(bundle))
    return bundle
  }
}
